//! FORMAT.md §5: the state block — the trim point and every consumer cursor, written whole.
//! It appears as the checkpoint in each segment header and as the body of `S` frames.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | trim point: no offset below it is readable |
//! | 8 | 1 | cursor count `k` (≤ the header's max consumers) |
//! | 9 | .. | `k` cursors: name length `m` (1..=32), `m` name bytes (UTF-8), committed offset (u64) |
//!
//! Cursors are stored in ascending byte order of their names, so one state has exactly one
//! encoding. Names are UTF-8 (every binding's names are strings).

use core::cmp::Ordering;

use super::get_u64;

/// Smallest state block (no cursors).
pub const MIN_STATE_LEN: usize = 9;
/// Longest consumer name in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Most cursors a state block may hold.
pub const MAX_CONSUMERS_ON_MEDIA: usize = 16;

/// Encoded length of a state with cursors whose names have the given lengths.
pub fn encoded_len<I: IntoIterator<Item = usize>>(name_lens: I) -> usize {
    MIN_STATE_LEN + name_lens.into_iter().map(|m| 1 + m + 8).sum::<usize>()
}

/// Writes the fixed prefix (trim point, count).
pub fn encode_prefix(trim: u64, count: u8, out: &mut [u8; MIN_STATE_LEN]) {
    out[0..8].copy_from_slice(&trim.to_le_bytes());
    out[8] = count;
}

/// One cursor's three fields in order — name length, name, committed offset (u64 LE) — for
/// a writer that streams them without staging the cursor.
pub fn cursor_fields(name: &[u8], offset: u64) -> ([u8; 1], &[u8], [u8; 8]) {
    ([name.len() as u8], name, offset.to_le_bytes())
}

/// Writes one cursor into `out`, returning the bytes used (`1 + name.len() + 8`); `None`
/// (nothing written) when the name is empty or longer than [`MAX_NAME_LEN`], or `out` is too
/// short.
pub fn encode_cursor(name: &[u8], offset: u64, out: &mut [u8]) -> Option<usize> {
    let m = name.len();
    if m == 0 || m > MAX_NAME_LEN || out.len() < 1 + m + 8 {
        return None;
    }
    let (len, name, off) = cursor_fields(name, offset);
    out[0] = len[0];
    out[1..1 + m].copy_from_slice(name);
    out[1 + m..1 + m + 8].copy_from_slice(&off);
    Some(1 + m + 8)
}

/// A decoded state block, borrowing the cursor bytes.
#[derive(Debug, Clone, Copy)]
pub struct StateView<'a> {
    /// The trim point.
    pub trim: u64,
    count: u8,
    cursors: &'a [u8],
}

impl<'a> StateView<'a> {
    /// Validates `b` (exactly one state block) and returns a view of it. Fails on truncation,
    /// trailing bytes, bad name lengths, names that are not UTF-8, unsorted or duplicate names,
    /// or more than `max_consumers` cursors.
    // Always inlined (one caller on firmware): smaller code (`bash footprint/measure.sh`).
    #[inline(always)]
    pub fn parse(b: &'a [u8], max_consumers: usize) -> Option<Self> {
        if b.len() < MIN_STATE_LEN {
            return None;
        }
        let view = StateView {
            trim: get_u64(b, 0),
            count: b[8],
            cursors: &b[MIN_STATE_LEN..],
        };
        if view.count as usize > max_consumers {
            return None;
        }
        let mut rest = view.cursors;
        let mut prev: Option<&[u8]> = None;
        for _ in 0..view.count {
            let (name, _, tail) = split_cursor(rest)?;
            if !is_utf8(name) {
                return None;
            }
            if let Some(p) = prev {
                if name_order(p, name) != Ordering::Less {
                    return None;
                }
            }
            prev = Some(name);
            rest = tail;
        }
        rest.is_empty().then_some(view)
    }

    /// Number of cursors.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when there are no cursors.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The cursors as `(name, committed offset)`.
    pub fn cursors(&self) -> impl Iterator<Item = (&'a [u8], u64)> {
        let mut rest = self.cursors;
        (0..self.count).map_while(move |_| {
            let (name, off, tail) = split_cursor(rest)?;
            rest = tail;
            Some((name, off))
        })
    }
}

/// Whether `b` is UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
/// as `core::str::from_utf8` decides — a loop of its own, which firmware links for a fraction
/// of the standard validator's code.
pub fn is_utf8(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (more, min) = match c {
            0x00..=0x7F => {
                i += 1;
                continue;
            }
            0xC2..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF4 => (3, 0x1_0000),
            _ => return false,
        };
        let mut cp = (c & (0x7F >> (more + 1))) as u32;
        for k in 1..=more {
            match b.get(i + k) {
                Some(&x) if x & 0xC0 == 0x80 => cp = cp << 6 | (x & 0x3F) as u32,
                _ => return false,
            }
        }
        if cp < min || cp > 0x10_FFFF || (0xD800..=0xDFFF).contains(&cp) {
            return false;
        }
        i += more + 1;
    }
    true
}

/// The order of cursor names: byte-wise, a prefix first — `<[u8]>::cmp`'s order, as a loop
/// over names of at most 32 bytes instead of a call into the runtime's `memcmp` (which
/// firmware would otherwise link for this alone).
pub(crate) fn name_order(a: &[u8], b: &[u8]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// The first cursor of `b`: its name, its offset and the bytes after it. Always inlined:
/// smaller firmware code (`bash footprint/measure.sh`).
#[inline(always)]
fn split_cursor(b: &[u8]) -> Option<(&[u8], u64, &[u8])> {
    let m = *b.first()? as usize;
    if m == 0 || m > MAX_NAME_LEN || b.len() < 1 + m + 8 {
        return None;
    }
    Some((&b[1..1 + m], get_u64(b, 1 + m), &b[1 + m + 8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_cursors_parse_back() {
        let cursors: [(&[u8], u64); 2] = [(b"a", 7), (b"uploader", u64::MAX - 1)];
        let mut b = [0u8; 64];
        let mut prefix = [0u8; MIN_STATE_LEN];
        encode_prefix(3, cursors.len() as u8, &mut prefix);
        b[..MIN_STATE_LEN].copy_from_slice(&prefix);
        let mut n = MIN_STATE_LEN;
        for (name, offset) in cursors {
            n += encode_cursor(name, offset, &mut b[n..]).unwrap();
        }
        assert_eq!(n, encoded_len(cursors.iter().map(|(name, _)| name.len())));
        let view = StateView::parse(&b[..n], 2).expect("a valid state block");
        assert_eq!(view.trim, 3);
        assert!(view.cursors().eq(cursors));
    }

    #[test]
    fn is_utf8_agrees_with_the_standard_validator() {
        // Every sequence of up to 3 bytes, and 4-byte sequences around every lead byte.
        let mut buf = [0u8; 4];
        for a in 0..=255u8 {
            buf[0] = a;
            assert_eq!(is_utf8(&buf[..1]), core::str::from_utf8(&buf[..1]).is_ok());
            for b in 0..=255u8 {
                buf[1] = b;
                assert_eq!(is_utf8(&buf[..2]), core::str::from_utf8(&buf[..2]).is_ok());
                for c in 0..=255u8 {
                    buf[2] = c;
                    let ok = core::str::from_utf8(&buf[..3]).is_ok();
                    assert_eq!(is_utf8(&buf[..3]), ok, "{:02x?}", &buf[..3]);
                }
                for (c, d) in [(0x80u8, 0x80u8), (0xBF, 0xBF), (0x8F, 0xA0), (0x41, 0x80)] {
                    buf[2] = c;
                    buf[3] = d;
                    assert_eq!(
                        is_utf8(&buf),
                        core::str::from_utf8(&buf).is_ok(),
                        "{buf:02x?}"
                    );
                }
            }
        }
    }

    #[test]
    fn name_order_is_the_slice_order() {
        let names: [&[u8]; 9] = [
            b"", b"a", b"ab", b"abc", b"b", b"\xff", b"a\x00", b"\x00", b"ba",
        ];
        for a in names {
            for b in names {
                assert_eq!(name_order(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}

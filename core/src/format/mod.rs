//! Every byte tidelog puts on a medium, as pure encode / decode / validate functions over
//! slices (no I/O). This module mirrors `FORMAT.md` section by section:
//!
//! | FORMAT.md section | module |
//! |---|---|
//! | 2. Layout of the medium and of a segment | [`layout`] |
//! | 3. Segment header (+ checkpoint) | [`header`] |
//! | 4. Frames (record, batch, state) | [`frame`] |
//! | 5. State block (trim point, consumer cursors) | [`state`] |
//! | 6. Index slots | [`index`] |
//!
//! All integers are little-endian. Checksums are CRC-32C (Castagnoli, as used by iSCSI,
//! ext4 and Kafka), computed with the `crc` crate.

pub mod frame;
pub mod header;
pub mod index;
pub mod layout;
pub mod state;

/// The format version this build writes. It reads every version from 1 up to this one.
pub const FORMAT_VERSION: u16 = 1;

/// Magic bytes opening every segment header: ASCII `TDLG`.
pub const MAGIC: [u8; 4] = *b"TDLG";

/// The `crc` table implementation behind [`CRC32C`]. Bare-metal (`target_os = "none"`) and
/// wasm targets, where code size matters, get the byte-wise 1 KiB table; hosted targets get
/// slice-by-16 (16 KiB of tables, several times faster: CRC dominates the append path).
#[cfg(any(target_os = "none", target_family = "wasm"))]
pub type CrcTable = crc::Table<1>;
/// The `crc` table implementation behind [`CRC32C`]. Bare-metal (`target_os = "none"`) and
/// wasm targets, where code size matters, get the byte-wise 1 KiB table; hosted targets get
/// slice-by-16 (16 KiB of tables, several times faster: CRC dominates the append path).
#[cfg(not(any(target_os = "none", target_family = "wasm")))]
pub type CrcTable = crc::Table<16>;

/// The CRC-32C algorithm used for every checksum.
pub static CRC32C: crc::Crc<u32, CrcTable> = crc::Crc::<u32, CrcTable>::new(&crc::CRC_32_ISCSI);

/// CRC-32C of `bytes`.
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c_append(0, bytes)
}

/// Continues a CRC-32C: `crc32c_append(crc32c(a), b) == crc32c(a ‖ b)`, and
/// `crc32c_append(0, a) == crc32c(a)`.
///
/// Hosted `std` builds on x86-64 and AArch64 use the CPU's CRC-32C instructions (the `crc32c`
/// crate, with its own software fallback); every other build uses [`CRC32C`]'s tables. Both
/// compute the same checksum (the golden images pin it).
#[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn crc32c_append(crc: u32, bytes: &[u8]) -> u32 {
    ::crc32c::crc32c_append(crc, bytes)
}

/// Continues a CRC-32C: `crc32c_append(crc32c(a), b) == crc32c(a ‖ b)`, and
/// `crc32c_append(0, a) == crc32c(a)`.
///
/// CRC-32C reflects input and output and XORs the result with `0xFFFFFFFF`, so a finished
/// value `c` continues from the raw register `!c`, which `digest_with_initial` wants
/// bit-reversed.
#[cfg(not(all(feature = "std", any(target_arch = "x86_64", target_arch = "aarch64"))))]
pub fn crc32c_append(crc: u32, bytes: &[u8]) -> u32 {
    let mut d = CRC32C.digest_with_initial((!crc).reverse_bits());
    d.update(bytes);
    d.finalize()
}

/// A running CRC-32C over bytes that arrive in pieces.
#[derive(Debug, Clone, Copy, Default)]
pub struct Crc32c(u32);

impl Crc32c {
    /// A checksum over nothing yet.
    pub const fn new() -> Self {
        Crc32c(0)
    }
    /// Adds `bytes`.
    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(always)]
    pub fn update(&mut self, bytes: &[u8]) {
        self.0 = crc32c_append(self.0, bytes);
    }
    /// The CRC-32C of everything added.
    pub fn finalize(self) -> u32 {
        self.0
    }
}

/// Rounds `n` up to a multiple of `align` (a power of two; any other value, or a sum past
/// `usize::MAX`, gives a meaningless result, never a panic: the arithmetic wraps).
pub const fn align_up(n: usize, align: usize) -> usize {
    let mask = align.wrapping_sub(1);
    n.wrapping_add(mask) & !mask
}

/// `b` without its last 4 bytes, when those hold the CRC-32C (little-endian) of the rest: how a
/// header's fixed part and checkpoint, every index slot and every frame end (FORMAT.md §3, §4,
/// §6). Always inlined: out of line, each caller's slicing around the call costs more than the
/// check (`bash footprint/measure.sh`).
#[inline(always)]
pub fn crc_checked(b: &[u8]) -> Option<&[u8]> {
    let n = b.len().checked_sub(4)?;
    let covered = &b[..n];
    (crc32c(covered) == get_u32(b, n)).then_some(covered)
}

/// True when `len` bytes from `start` end at or before `limit`, in 32-bit arithmetic (a sum
/// that overflows does not fit): positions and lengths on the medium are below 4 GiB, and a
/// 64-bit comparison costs a 32-bit core twice the code.
pub(crate) fn ends_within(start: u32, len: u32, limit: u32) -> bool {
    start.checked_add(len).is_some_and(|end| end <= limit)
}

/// Reads a little-endian `u16` at `at`.
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_le_bytes(a)
}

/// Reads a little-endian `u32` at `at`. One bounds check and one (unaligned) load: indexing
/// byte by byte checked each index, and out of line the call cost more than the load (log
/// firmware 0.3 KB smaller, `bash footprint/measure.sh`); the same for `u16` and `u64`.
#[inline(always)]
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// Reads a little-endian `u64` at `at` (see [`get_u32`]).
#[inline(always)]
pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// True when every byte is `0xFF` (erased flash).
pub fn is_erased(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_chaining_matches_one_shot() {
        let data: [u8; 300] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        for cut in [0, 1, 5, 150, 299, 300] {
            let c = crc32c_append(crc32c(&data[..cut]), &data[cut..]);
            assert_eq!(c, crc32c(&data), "cut {cut}");
            let mut d = Crc32c::new();
            d.update(&data[..cut]);
            d.update(&data[cut..]);
            assert_eq!(d.finalize(), crc32c(&data), "cut {cut}");
        }
    }
}

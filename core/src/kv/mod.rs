//! [`Kv`]: a crash-safe key-value journal over two partitions (double-buffered).
//!
//! # Model
//!
//! The storage given to [`Kv`] is split into two equal **partitions** (its first and second
//! half, each a whole number of erase sectors; a last odd sector stays unused). To put a KV
//! next to a log on one device, hand it a [`Partition`](crate::Partition) of the device.
//!
//! The **active** partition holds a header (generation `g`) and a **journal**: frames in the
//! log's frame encoding, each holding one or more entries (set key → value, or delete key).
//! Every write ([`set`](Kv::set), [`delete`](Kv::delete), [`set_multiple`](Kv::set_multiple),
//! [`apply`](Kv::apply)) appends exactly one frame, so a batch is atomic by one CRC. The map is
//! the result of replaying the journal in order.
//!
//! **Compaction** erases the other partition, writes the live entries into it, then — last —
//! its header with generation `g + 1`. That header is the commit point: until it is
//! completely programmed the partition is invalid and the old one stays active; once it is,
//! the new one (the higher generation) is active. So a power cut at any program or erase of a
//! compaction leaves either the complete old state or the complete new state, and both are
//! the same map. The exhaustive power-cut harness (`tests/support/kv_powercut.rs`) checks this
//! at every cut point.
//!
//! # The high-water mark
//!
//! [`KvConfig::high_water_percent`] sets a fill mark of the active partition.
//! [`is_high_water_mark_triggered`](Kv::is_high_water_mark_triggered) is a plain flag: the
//! active partition's used bytes are at or above the mark. It is not a callback:
//!
//! * A write that **crosses** the mark (from below to at-or-above) compacts right after the
//!   write. If the compacted state itself is over the mark, the flag stays set and later
//!   writes do not compact again on their own (they do not cross it).
//! * A write that **does not fit** compacts and retries once — unless compaction cannot help
//!   because nothing was written since the last compaction (the journal already is the
//!   compacted state). If it still does not fit: [`Error::Full`], and nothing was written.
//!   Never silent loss.
//! * After mount, a KV found over the mark compacts before its first write (a cut may have
//!   interrupted the crossing compaction), unless the journal is exactly the output of the
//!   last compaction.
//! * [`compact`](Kv::compact) compacts on demand.
//!
//! # Torn tails
//!
//! Mount replays frames until erased space. A torn or damaged frame after the frames of the
//! last compaction ends the journal (its entries and everything after it do not exist — as in
//! FORMAT.md §4), so the map is the state after a prefix of the writes, and marks the tail
//! unclean: nothing is ever programmed behind torn bytes; the next write compacts into the
//! other partition first. A bad frame *among* the frames of the last compaction cannot come
//! from a power cut (they were complete before the header committed them): mount reports it
//! as [`Error::Corrupt`] rather than return a map that never existed.
//!
//! # RAM and the index
//!
//! RAM is fixed at construction (invariant I7): the struct itself, plus the index. The index
//! variant is a type parameter ([`ScanIndex`], no heap, or `MapIndex` with feature `alloc`);
//! see [`index`] for the trade-off. Streaming buffers live on the stack (under 2 KiB at the
//! deepest, during compaction).
//!
//! # Files
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | [`Kv`], [`KvConfig`], [`KvOp`], [`KvStats`]: the public API and the write path |
//! | `format.rs` | every on-media byte of the KV section (header, `K` frames, entries) |
//! | `frames.rs` | frame verification (through the shared read window), entry parsing |
//! | `journal.rs` | mount scan, lookups by scanning, liveness, reading an entry back |
//! | `compact.rs` | compaction, clearing and formatting (the generation switch) |
//! | `index.rs` | the index variants |
//! | `iter.rs` | [`KvIter`]: iteration over the live entries |

mod compact;
pub mod format;
mod frames;
pub mod index;
mod iter;
mod journal;

#[cfg(feature = "alloc")]
pub use index::MapIndex;
pub use index::{KvIndex, ScanIndex};
pub use iter::{KvCursor, KvIter};

use self::format::{
    body_len, data_start, decode_header, encode_frame_header, entry_len, frame_size,
    max_entry_frame, KvHeader, KvHeaderError, MAX_FUTURE_HEADER_LEN, MAX_KEY_LEN, OP_DELETE,
    OP_SET,
};
use self::frames::Limits;
use self::index::{Loc, Lookup};
use crate::error::{ConfigError, Error, Fallible, Fault, Result};
use crate::format::ends_within;
use crate::format::frame::{varint_len, FRAME_OVERHEAD, MAX_BODY_LEN};
use crate::storage::{validate_geometry, Storage};
use crate::writer::UnitWriter;

/// Settings for [`Kv::format`] and [`Kv::mount`].
///
/// `max_key_len` and `max_value_len` shape the image and are stored in it; `mount` takes them
/// from the image. `high_water_percent` is a run-time choice and applies to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvConfig {
    /// Longest key in bytes (0..=255). Default 255.
    pub max_key_len: u8,
    /// Longest value in bytes; 0 means "the largest a partition can hold next to a longest
    /// key" (the default).
    pub max_value_len: u32,
    /// The high-water mark, in percent of a partition (1..=100). Default 75.
    pub high_water_percent: u8,
}

impl Default for KvConfig {
    fn default() -> Self {
        KvConfig::new()
    }
}

impl KvConfig {
    /// The default configuration: 255-byte keys, values as large as fit, mark at 75 %.
    pub const fn new() -> Self {
        KvConfig {
            max_key_len: 255,
            max_value_len: 0,
            high_water_percent: 75,
        }
    }
    /// Sets [`max_key_len`](Self::max_key_len).
    pub const fn max_key_len(mut self, n: u8) -> Self {
        self.max_key_len = n;
        self
    }
    /// Sets [`max_value_len`](Self::max_value_len).
    pub const fn max_value_len(mut self, n: u32) -> Self {
        self.max_value_len = n;
        self
    }
    /// Sets [`high_water_percent`](Self::high_water_percent).
    pub const fn high_water_percent(mut self, p: u8) -> Self {
        self.high_water_percent = p;
        self
    }
}

/// One operation of an atomic batch ([`Kv::apply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvOp<'a> {
    /// Set the key to the value.
    Set(&'a [u8], &'a [u8]),
    /// Delete the key (a no-op if it is absent).
    Delete(&'a [u8]),
}

impl KvOp<'_> {
    fn key(&self) -> &[u8] {
        match self {
            KvOp::Set(k, _) | KvOp::Delete(k) => k,
        }
    }
    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(always)]
    fn value(&self) -> Option<&[u8]> {
        match self {
            KvOp::Set(_, v) => Some(v),
            KvOp::Delete(_) => None,
        }
    }
}

/// Size and state of a [`Kv`], from [`Kv::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KvStats {
    /// Generation of the active partition (1 after format, +1 per compaction).
    pub generation: u64,
    /// Which partition is active: 0 (first half) or 1 (second half).
    pub active_partition: u8,
    /// Size of each partition in bytes.
    pub partition_size: u32,
    /// Bytes used in the active partition (header and frames).
    pub used_bytes: u32,
    /// The high-water mark in bytes: the flag is set while `used_bytes ≥ high_water_mark`.
    pub high_water_mark: u32,
    /// Live keys, when the index knows (`MapIndex`); `None` with [`ScanIndex`].
    pub live_keys: Option<usize>,
    /// Longest key accepted.
    pub max_key_len: u8,
    /// Longest value accepted.
    pub max_value_len: u32,
    /// Largest body of one frame (a batch of entries) that fits in a partition.
    pub max_batch_body: u32,
    /// Mount found a damaged frame among those the newest compaction wrote and mounted the
    /// previous generation instead: the writes made after that compaction are lost.
    pub fell_back: bool,
}

/// Geometry of a KV image (from the storage and the active header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geo {
    /// Program unit.
    pub ws: u32,
    /// Erase sector.
    pub es: u32,
    /// Partition size.
    pub part: u32,
    /// Where frames start in a partition.
    pub ds: u32,
    /// Longest key and value.
    pub limits: Limits,
}

/// A crash-safe key-value journal over the two halves of a [`Storage`]. See the
/// [module docs](self) for the model, and [`format`] for the bytes.
///
/// `I` is the index: [`ScanIndex`] (default: no heap, lookups scan the journal) or
/// `MapIndex` (feature `alloc`: O(log n) lookups).
pub struct Kv<S: Storage, I: KvIndex = ScanIndex> {
    storage: S,
    geo: Geo,
    /// Generation of the active partition.
    generation: u64,
    /// Active partition: 0 or 1.
    active: u32,
    /// End of the journal, relative to the active partition.
    pos: u32,
    /// The high-water mark in bytes (relative to the partition start).
    mark: u32,
    /// False when the journal may end in torn bytes: compact before writing.
    tail_clean: bool,
    /// True when nothing was written since the last compaction (compaction cannot help).
    journal_compact: bool,
    /// Mounted over the mark: compact before the first write (if it can help).
    recheck: bool,
    /// A write failed part-way: writes are refused until the next mount.
    poisoned: bool,
    /// Renewed by every write and compaction: a [`ScanIndex`] cursor of another epoch is stale.
    epoch: crate::epoch::Epoch,
    /// Mount found the newest generation damaged and mounted the previous one.
    fell_back: bool,
    index: I,
}

impl<S: Storage, I: KvIndex> core::fmt::Debug for Kv<S, I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Kv")
            .field("generation", &self.generation)
            .field("active", &self.active)
            .field("pos", &self.pos)
            .field("mark", &self.mark)
            .field("tail_clean", &self.tail_clean)
            .finish_non_exhaustive()
    }
}

impl Geo {
    /// The geometry of the partitions of `part` bytes whose header is `h`.
    fn of(h: &KvHeader, part: u32) -> Geo {
        Geo {
            ws: h.write_size,
            es: h.erase_size,
            part,
            ds: h.data_start(),
            limits: Limits {
                max_key: h.max_key_len as u32,
                max_value: h.max_value_len,
            },
        }
    }
}

/// The header of the partition other than `active` when it holds the generation just before
/// `h`'s (the one `h`'s compaction copied), of the same geometry.
fn previous_generation<S: Storage>(
    storage: &mut S,
    part: u32,
    active: u32,
    h: &KvHeader,
) -> Fallible<Option<KvHeader>> {
    let mut b = [0u8; MAX_FUTURE_HEADER_LEN];
    let n = MAX_FUTURE_HEADER_LEN.min(part as usize);
    storage.read((1 - active) * part, &mut b[..n])?;
    Ok(decode_header(&b[..n]).ok().filter(|p| {
        p.generation + 1 == h.generation
            && p.write_size == h.write_size
            && p.erase_size == h.erase_size
            && p.partition_size == h.partition_size
    }))
}

/// What [`probe`] found on a storage.
enum Probe {
    /// A mountable image: active partition and its header.
    Image(u32, KvHeader),
    /// Nothing mountable; the error mount reports.
    None(Fault),
}

/// The partition size of a storage: half of its sectors, rounded down.
fn partition_size<S: Storage>(storage: &S) -> Result<u32> {
    let (ws, es, cap) = (
        storage.write_size(),
        storage.erase_size(),
        storage.capacity(),
    );
    validate_geometry(storage.read_size(), ws, es, cap)?;
    let part = (cap / es / 2) as u64 * es as u64;
    if part == 0 {
        return Err(ConfigError::KvTooSmall.into());
    }
    if part >= 1 << 31 {
        return Err(ConfigError::KvPartitionTooLarge.into());
    }
    Ok(part as u32)
}

/// Reads both partition headers and picks the active one.
fn probe<S: Storage>(storage: &mut S, part: u32) -> Fallible<Probe> {
    let (ws, es) = (storage.write_size() as u32, storage.erase_size() as u32);
    let mut best: Option<(u32, KvHeader)> = None;
    let mut future = None;
    let mut mismatch = false;
    for p in 0..2u32 {
        let mut b = [0u8; MAX_FUTURE_HEADER_LEN];
        let n = MAX_FUTURE_HEADER_LEN.min(part as usize);
        storage.read(p * part, &mut b[..n])?;
        match decode_header(&b[..n]) {
            Ok(h) => {
                if h.write_size != ws || h.erase_size != es || h.partition_size != part {
                    mismatch = true;
                    continue;
                }
                match best {
                    Some((_, b)) if b.generation == h.generation => {
                        return Ok(Probe::None(Fault::Corrupt { addr: p * part }))
                    }
                    Some((_, b)) if b.generation > h.generation => {}
                    _ => best = Some((p, h)),
                }
            }
            Err(KvHeaderError::FutureVersion(v)) => future = Some(v),
            Err(_) => {}
        }
    }
    Ok(match (future, best, mismatch) {
        (Some(found), _, _) => Probe::None(Fault::UnsupportedVersion { found }),
        (None, Some((p, h)), _) => Probe::Image(p, h),
        (None, None, true) => Probe::None(Fault::GeometryMismatch),
        (None, None, false) => Probe::None(Fault::NotFormatted),
    })
}

impl<S: Storage, I: KvIndex> Kv<S, I> {
    /// Refuses writes until the KV is mounted again: what it believes is on the medium may not
    /// be there (a storage layer under it lost bytes it had accepted).
    #[cfg(all(feature = "file", any(unix, windows)))]
    pub(crate) fn poison(&mut self) {
        self.poisoned = true;
    }

    /// Creates an empty KV on the storage, laid out by `config` and the storage's geometry.
    ///
    /// If the storage already holds a KV image of this geometry, the empty state is committed
    /// as a new generation in the inactive partition before the old one is erased, so a cut
    /// during `format` leaves either the old map or the empty one. Anything else on the
    /// storage is erased first.
    ///
    /// Errors: [`Error::InvalidConfig`] (fewer than two erase sectors, a longest entry that
    /// does not fit in a partition, a mark outside 1..=100 %), or a storage error.
    // Never inlined: once per device, and inlined into firmware's `main` it costs more than
    // the call (`bash footprint/measure.sh`).
    #[inline(never)]
    pub fn format(mut storage: S, config: KvConfig) -> Result<Self> {
        let part = partition_size(&storage)?;
        let ws = storage.write_size();
        let ds = data_start(ws) as u32;
        let max_key = config.max_key_len as usize;
        let room = part.saturating_sub(ds) as usize;
        let max_value = match config.max_value_len {
            0 => {
                // The largest value whose single-entry frame fits.
                let fixed = FRAME_OVERHEAD + 1 + 1 + varint_len(max_key as u32) + max_key + 1;
                let mut v = room.saturating_sub(fixed).min(MAX_BODY_LEN - 16 - max_key);
                while v > 0 && max_entry_frame(ws, max_key, v).is_none_or(|f| f > room) {
                    v -= 1;
                }
                v as u32
            }
            v => v,
        };
        if max_entry_frame(ws, max_key, max_value as usize).is_none_or(|f| f > room) {
            return Err(ConfigError::KvEntryTooLarge.into());
        }
        let mark = Self::mark_bytes(part, config.high_water_percent)?;
        let geo = Geo {
            ws: ws as u32,
            es: storage.erase_size() as u32,
            part,
            ds,
            limits: Limits {
                max_key: max_key as u32,
                max_value,
            },
        };
        let existing = match probe(&mut storage, part)? {
            Probe::Image(p, h) => Some((p, h.generation)),
            Probe::None(_) => None,
        };
        let mut kv = Kv {
            storage,
            geo,
            generation: 0,
            active: 1,
            pos: ds,
            mark,
            tail_clean: true,
            journal_compact: true,
            recheck: false,
            poisoned: false,
            epoch: crate::epoch::Epoch::fresh(),
            fell_back: false,
            index: I::new_index(),
        };
        match existing {
            Some((p, generation)) => {
                kv.active = p;
                kv.generation = generation;
                kv.switch_generation(false)?;
                let old = (1 - kv.active) * part;
                kv.storage.erase(old, old + part)?;
                kv.storage.sync()?;
            }
            None => {
                // Partition 0 is erased by the switch, which then commits generation 1 there.
                kv.storage.erase(part, 2 * part)?;
                kv.switch_generation(false)?;
            }
        }
        Ok(kv)
    }

    /// Mounts the KV image on the storage: picks the valid partition with the higher
    /// generation, replays its journal (building the index) and finds a safe place for the
    /// next write. Mount only reads.
    ///
    /// `config.high_water_percent` applies; the key and value limits come from the image.
    ///
    /// Errors: [`Error::NotFormatted`] (no valid partition header),
    /// [`Error::UnsupportedVersion`] (an intact header of a newer KV format),
    /// [`Error::GeometryMismatch`] (headers for another geometry), [`Error::Corrupt`] (two
    /// valid headers of the same generation, or a damaged frame among those the last
    /// compaction wrote — which no power cut can produce — when the other partition does not
    /// hold the generation before it), [`Error::InvalidConfig`], storage errors.
    ///
    /// A damaged frame among those the last compaction wrote does not cost the KV when the
    /// other partition still holds the generation that compaction copied (it does until the
    /// next compaction erases it): that previous generation is mounted instead, and
    /// [`KvStats::fell_back`] says so — the writes made after that compaction are lost (as a
    /// damaged state frame costs the log its newest state, not the log).
    pub fn mount(mut storage: S, config: KvConfig) -> Result<Self> {
        let part = partition_size(&storage)?;
        let mark = Self::mark_bytes(part, config.high_water_percent)?;
        let (mut active, mut h) = match probe(&mut storage, part)? {
            Probe::Image(p, h) => (p, h),
            Probe::None(e) => return Err(e.into()),
        };
        let mut index = I::new_index();
        let mut geo = Geo::of(&h, part);
        let mut tail = journal::scan_partition(&mut storage, &geo, active * part, &mut index)?;
        let mut fell_back = false;
        if tail.pos < h.compacted_end {
            // The frames a compaction wrote were complete before its header committed them, so
            // a scan that stops inside them met damage, not a torn write.
            let damage = Error::Corrupt {
                addr: active * part + tail.pos,
            };
            let Some(previous) = previous_generation(&mut storage, part, active, &h)? else {
                return Err(damage);
            };
            (active, h) = (1 - active, previous);
            geo = Geo::of(&h, part);
            tail = journal::scan_partition(&mut storage, &geo, active * part, &mut index)?;
            if tail.pos < h.compacted_end {
                return Err(damage);
            }
            fell_back = true;
        }
        let journal_compact = tail.clean && tail.pos == h.compacted_end;
        Ok(Kv {
            storage,
            geo,
            generation: h.generation,
            active,
            pos: tail.pos,
            mark,
            tail_clean: tail.clean,
            journal_compact,
            recheck: tail.pos >= mark,
            poisoned: false,
            epoch: crate::epoch::Epoch::fresh(),
            fell_back,
            index,
        })
    }

    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(always)]
    fn mark_bytes(part: u32, percent: u8) -> Result<u32> {
        if !(1..=100).contains(&percent) {
            return Err(ConfigError::HighWaterPercent.into());
        }
        // `part * percent / 100` without 64-bit division (part < 2^31).
        let percent = percent as u32;
        Ok(part / 100 * percent + part % 100 * percent / 100)
    }

    /// Absolute address of the start of partition `p`.
    pub(crate) fn base(&self, p: u32) -> u32 {
        p * self.geo.part
    }

    /// Absolute end of the active journal.
    pub(crate) fn journal_end(&self) -> u32 {
        self.base(self.active) + self.pos
    }

    /// Where the newest entry of `key` is, if the key is live.
    fn locate(&mut self, key: &[u8]) -> Fallible<Option<Loc>> {
        if key.len() > self.geo.limits.max_key as usize {
            return Ok(None);
        }
        match self.index.lookup(key) {
            Lookup::Found(loc) => Ok(Some(loc)),
            Lookup::Absent => Ok(None),
            Lookup::Unknown => {
                let from = self.base(self.active) + self.geo.ds;
                let to = self.journal_end();
                journal::scan_lookup(&mut self.storage, &self.geo, from, to, key)
            }
        }
    }

    /// Copies the value of `key` into `buf` and returns its length, or `None` if the key is
    /// absent. The frame holding it is CRC-checked first (invariant I4).
    ///
    /// Errors: [`Error::BufferTooSmall`] (nothing copied), [`Error::Corrupt`] (the medium
    /// changed since it was written), storage errors.
    // Never inlined: inlined into a big caller it costs register spills; out of line it is
    // smaller (`bash footprint/measure.sh`, see BENCHMARKS.md §3).
    #[inline(never)]
    pub fn get(&mut self, key: &[u8], buf: &mut [u8]) -> Result<Option<usize>> {
        let Some(loc) = self.locate(key)? else {
            return Ok(None);
        };
        let end = self.journal_end();
        let e = journal::read_entry(&mut self.storage, &self.geo, loc, end, Some(key))?;
        let n = e.val_len as usize;
        if buf.len() < n {
            return Err(Error::BufferTooSmall { needed: e.val_len });
        }
        self.storage.read(e.val_addr, &mut buf[..n])?;
        Ok(Some(n))
    }

    /// The length of the value of `key`, or `None` if the key is absent.
    pub fn value_len(&mut self, key: &[u8]) -> Result<Option<u32>> {
        let Some(loc) = self.locate(key)? else {
            return Ok(None);
        };
        let end = self.journal_end();
        let e = journal::read_entry(&mut self.storage, &self.geo, loc, end, Some(key))?;
        Ok(Some(e.val_len))
    }

    /// Whether `key` is present.
    pub fn contains_key(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.locate(key)?.is_some())
    }

    /// The value of `key` as a vector, or `None` if the key is absent (feature `alloc`).
    #[cfg(feature = "alloc")]
    pub fn get_vec(&mut self, key: &[u8]) -> Result<Option<alloc::vec::Vec<u8>>> {
        let Some(loc) = self.locate(key)? else {
            return Ok(None);
        };
        let end = self.journal_end();
        let e = journal::read_entry(&mut self.storage, &self.geo, loc, end, Some(key))?;
        let mut v = alloc::vec![0u8; e.val_len as usize];
        self.storage.read(e.val_addr, &mut v)?;
        Ok(Some(v))
    }

    /// Sets `key` to `value` (one frame). See [`apply`](Self::apply) for errors and the
    /// high-water-mark behaviour.
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.apply(&[KvOp::Set(key, value)])
    }

    /// Deletes `key`; returns whether it was present. Nothing is written when it was not.
    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(never)]
    pub fn delete(&mut self, key: &[u8]) -> Result<bool> {
        self.check_writable()?;
        if !self.contains_key(key)? {
            return Ok(false);
        }
        self.apply(&[KvOp::Delete(key)])?;
        Ok(true)
    }

    /// Sets several keys atomically: one frame, one checksum — after a crash either all are
    /// set or none. Later pairs win over earlier ones with the same key. An empty slice writes
    /// nothing.
    // Never inlined: see `get`.
    #[inline(never)]
    pub fn set_multiple(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        self.check_writable()?;
        if pairs.is_empty() {
            return Ok(());
        }
        let (count, entries) = self.measure(pairs.iter().map(|(k, v)| (*k, Some(*v))))?;
        self.write_frame(count, entries, &mut |w| {
            for (k, v) in pairs {
                put_entry(w, k, Some(v))?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Applies sets and deletes atomically, in order (one frame). An empty slice writes
    /// nothing. Deletes of absent keys are written as given (they are harmless).
    ///
    /// If the frame does not fit in the active partition, the KV compacts and retries once —
    /// unless nothing was written since the last compaction (it cannot help). If it still
    /// does not fit: [`Error::Full`], and nothing was written. A write that crosses the
    /// high-water mark compacts right after it.
    ///
    /// Errors: [`Error::TooLarge`] (a key or value over its limit, or a batch larger than a
    /// partition), [`Error::Full`], [`Error::NeedsRemount`] (an earlier write failed
    /// part-way), storage errors. A storage error means the operation may or may not have
    /// taken effect (as after any crash; a storage error of the compaction that follows a
    /// successful write leaves the write in place); `Ok` means it is on the medium (durable
    /// after [`sync`](Self::sync) on storages with a write cache).
    pub fn apply(&mut self, ops: &[KvOp<'_>]) -> Result<()> {
        self.check_writable()?;
        if ops.is_empty() {
            return Ok(());
        }
        let (count, entries) = self.measure(ops.iter().map(|op| (op.key(), op.value())))?;
        self.write_frame(count, entries, &mut |w| {
            for op in ops {
                put_entry(w, op.key(), op.value())?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Checks every key and value against the limits, and the batch against a partition;
    /// returns the entry count and the entries' encoded length.
    fn measure<'k>(
        &self,
        entries: impl Iterator<Item = (&'k [u8], Option<&'k [u8]>)>,
    ) -> Result<(usize, usize)> {
        let (mut count, mut total) = (0usize, 0usize);
        for (k, v) in entries {
            if k.len() > self.geo.limits.max_key as usize {
                return Err(Error::TooLarge {
                    len: k.len().min(u32::MAX as usize) as u32,
                    max: self.geo.limits.max_key,
                });
            }
            if let Some(v) = v {
                if v.len() > self.geo.limits.max_value as usize {
                    return Err(Error::TooLarge {
                        len: v.len().min(u32::MAX as usize) as u32,
                        max: self.geo.limits.max_value,
                    });
                }
            }
            count += 1;
            total = total.saturating_add(entry_len(k.len(), v.map(<[u8]>::len)));
        }
        let (body, max) = (body_len(count, total), self.max_batch_body());
        if body > max as usize {
            return Err(Error::TooLarge {
                len: body.min(u32::MAX as usize) as u32,
                max,
            });
        }
        Ok((count, total))
    }

    /// Largest frame body a partition can hold.
    fn max_batch_body(&self) -> u32 {
        let room = (self.geo.part - self.geo.ds) as usize;
        let mut b = room.saturating_sub(FRAME_OVERHEAD).min(MAX_BODY_LEN);
        while b > 0 && frame_size(self.geo.ws as usize, b) > room {
            b -= 1;
        }
        b as u32
    }

    /// The write path: room, compaction, the frame, the index, the mark. `body` streams the
    /// entries; a trait object, so one copy serves `set_multiple` and `apply`.
    fn write_frame(
        &mut self,
        count: usize,
        entries: usize,
        body: &mut dyn FnMut(&mut UnitWriter<'_, S>) -> Fallible<()>,
    ) -> Fallible<()> {
        // `measure` checked the body against `max_batch_body`: the frame fits a partition.
        let body_len = body_len(count, entries);
        let size = frame_size(self.geo.ws as usize, body_len) as u32;
        let mut compacted = false;
        if !self.tail_clean || (self.recheck && !self.journal_compact) {
            self.compact_now()?;
            compacted = true;
        }
        self.recheck = false;
        if !ends_within(self.pos, size, self.geo.part) {
            if !compacted && !self.journal_compact {
                self.compact_now()?;
                compacted = true;
            }
            if !ends_within(self.pos, size, self.geo.part) {
                return Err(Fault::Full);
            }
        }
        let was_over = self.pos >= self.mark;
        let frame = self.journal_end();
        let result = (|| {
            let mut w = UnitWriter::new(&mut self.storage, frame, self.geo.ws as usize);
            w.put(&encode_frame_header(body_len))?;
            w.put_varint(count as u32)?;
            body(&mut w)?;
            w.finish()?;
            Ok(())
        })();
        if let Err(e) = result {
            self.poisoned = true;
            self.tail_clean = false;
            return Err(e);
        }
        self.pos += size;
        self.journal_compact = false;
        self.epoch = crate::epoch::Epoch::fresh();
        if I::INDEXED {
            self.index_frame(frame, body_len as u32)?;
        }
        if !compacted && !was_over && self.pos >= self.mark {
            self.compact_now()?;
        }
        Ok(())
    }

    /// Records the entries of the frame just written in the index (reading back only entry
    /// headers and keys).
    fn index_frame(&mut self, frame: u32, body_len: u32) -> Fallible<()> {
        let mut w = frames::EntryWalk::start(&mut self.storage, frame, body_len)?;
        while let Some(e) = w.next(&mut self.storage, &self.geo.limits)? {
            let key = frames::KeyBuf::read(&mut self.storage, &e)?;
            if e.set {
                self.index.note_set(
                    key.as_slice(),
                    Loc {
                        frame,
                        entry: e.addr,
                    },
                );
            } else {
                self.index.note_delete(key.as_slice());
            }
        }
        Ok(())
    }

    /// Compacts now: the live map is written into the other partition with the next
    /// generation, which becomes active. Crash-safe (see the [module docs](self)). Clears the
    /// high-water flag when the compacted state is below the mark.
    ///
    /// Errors: [`Error::Corrupt`] (a frame of the journal no longer verifies: nothing is
    /// copied, the old partition stays active), [`Error::NeedsRemount`], storage errors.
    pub fn compact(&mut self) -> Result<()> {
        self.check_writable()?;
        Ok(self.compact_now()?)
    }

    /// Removes every key, crash-safely: an empty state is committed as the next generation in
    /// the other partition.
    pub fn clear(&mut self) -> Result<()> {
        self.check_writable()?;
        Ok(self.switch_generation(false)?)
    }

    fn compact_now(&mut self) -> Fallible<()> {
        self.switch_generation(true)
    }

    /// The high-water flag: the active partition is filled to the mark or beyond. A plain
    /// flag, recomputed after every write and compaction; see the [module docs](self).
    pub fn is_high_water_mark_triggered(&self) -> bool {
        self.pos >= self.mark
    }

    /// Size and state of the KV.
    pub fn stats(&self) -> KvStats {
        KvStats {
            generation: self.generation,
            active_partition: self.active as u8,
            partition_size: self.geo.part,
            used_bytes: self.pos,
            high_water_mark: self.mark,
            live_keys: self.index.live_keys(),
            max_key_len: self.geo.limits.max_key.min(MAX_KEY_LEN as u32) as u8,
            max_value_len: self.geo.limits.max_value,
            max_batch_body: self.max_batch_body(),
            fell_back: self.fell_back,
        }
    }

    /// An iterator over the live entries (see [`KvIter`] for the order). The whole journal is
    /// verified first with [`ScanIndex`]; with `MapIndex` each entry's frame is verified as
    /// it is read.
    pub fn iter(&mut self) -> Result<KvIter<'_, S, I>> {
        KvIter::new(self)
    }

    /// Every live entry as `(key, value)` vectors, in the order of [`iter`](Self::iter)
    /// (feature `alloc`).
    #[cfg(feature = "alloc")]
    #[allow(clippy::type_complexity)]
    pub fn entries(
        &mut self,
    ) -> Result<alloc::vec::Vec<(alloc::vec::Vec<u8>, alloc::vec::Vec<u8>)>> {
        let mut out = alloc::vec::Vec::new();
        let mut it = self.iter()?;
        while let Some(kv) = it.next_vec()? {
            out.push(kv);
        }
        Ok(out)
    }

    /// Durability barrier: every write before it survives power loss once it returns. A no-op
    /// on raw flash; `fsync` on files.
    pub fn sync(&mut self) -> Result<()> {
        self.storage.sync().map_err(|e| {
            self.poisoned = true;
            Error::from(e)
        })
    }

    /// The storage. Reading it is harmless.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, mutably — for test harnesses (fault injection). Writing the KV's bytes
    /// behind its back voids every guarantee.
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.storage
    }

    fn check_writable(&self) -> Fallible<()> {
        if self.storage.is_read_only() {
            Err(Fault::Storage(crate::error::StorageError::ReadOnly))
        } else if self.poisoned {
            Err(Fault::NeedsRemount)
        } else {
            Ok(())
        }
    }
}

/// Writes one entry into a frame being streamed.
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
fn put_entry<S: Storage>(
    w: &mut UnitWriter<'_, S>,
    key: &[u8],
    value: Option<&[u8]>,
) -> Fallible<()> {
    w.put(&[if value.is_some() { OP_SET } else { OP_DELETE }])?;
    w.put_varint(key.len() as u32)?;
    w.put(key)?;
    if let Some(v) = value {
        w.put_varint(v.len() as u32)?;
        w.put(v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::RamStorage;

    /// The division-free high-water computation equals `part * percent / 100` exactly.
    #[test]
    fn mark_bytes_is_exact() {
        let parts = (0..2000u32)
            .chain((0..31).map(|b| 1u32 << b))
            .chain((1..31).map(|b| (1u32 << b) - 1))
            .chain([(1 << 31) - 4096, 12_345_678, 99_999_999]);
        for part in parts {
            for percent in 1..=100u8 {
                let want = (part as u64 * percent as u64 / 100) as u32;
                let got = Kv::<RamStorage<'static>>::mark_bytes(part, percent).unwrap();
                assert_eq!(got, want, "part {part}, percent {percent}");
            }
        }
        assert!(Kv::<RamStorage<'static>>::mark_bytes(4096, 0).is_err());
        assert!(Kv::<RamStorage<'static>>::mark_bytes(4096, 101).is_err());
    }
}

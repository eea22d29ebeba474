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
pub fn crc32c(bytes: &[u8]) -> u32 {
    CRC32C.checksum(bytes)
}

/// Rounds `n` up to a multiple of `align` (a power of two).
pub const fn align_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// Reads a little-endian `u16` at `at`.
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Reads a little-endian `u32` at `at`.
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads a little-endian `u64` at `at`.
pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// True when every byte is `0xFF` (erased flash).
pub fn is_erased(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xFF)
}

//! [`SimFlash`]: a NOR flash simulator with power-loss fault injection (feature `sim`).
//!
//! # The flash model
//!
//! The device is a byte array (the *image*) plus one *programmed* mark per write unit:
//!
//! * **Erased bytes read as `0xFF`.** [`erase`](Storage::erase) sets whole sectors to `0xFF`
//!   (sector by sector, in ascending order) and clears the marks of their units.
//! * **Programs only clear bits.** [`program`](Storage::program) ANDs the data into the cells
//!   and marks every unit it covers.
//! * **Write-once.** Programming a unit that is marked (programmed since its last erase) fails
//!   with [`StorageError::WriteTwice`] and writes nothing, so a core that would re-program a
//!   unit (forbidden on ECC flash) is caught. The check covers every unit before any byte is
//!   written.
//! * **Strict arguments.** Programs need `addr` and `len` to be multiples of the write unit,
//!   erases need both ends to be multiples of the sector and `from <= to`; everything must lie
//!   inside the capacity. A rejected call changes nothing.
//!
//! # Power loss
//!
//! Every `program` and `erase` call made while the device is powered is a *mutating op* and
//! gets an index (0-based, see [`SimFlash::mutating_ops`]). [`SimFlash::set_fault`] arms a
//! [`PowerCut`] that cuts power during the op with a given index, in one of four ways ([`Cut`]).
//! After a cut the device is off: every call (`read`, `program`, `erase`, `sync`) returns
//! [`StorageError::PowerLoss`] and changes nothing until [`SimFlash::power_cycle`] or
//! [`SimFlash::restore`]. The torn modes use a small deterministic PRNG (seed with
//! [`SimFlash::with_seed`]), so every failing case can be replayed.
//!
//! If the faulted op is itself invalid (misaligned, out of bounds, or a write-twice), the
//! validation error is returned (so bugs are not masked as power loss), nothing is written, and
//! the power is cut all the same (as with [`Cut::Before`]).
//!
//! [`SimFlash::snapshot`] / [`SimFlash::restore`] save and reload the physical state (image and
//! marks), and [`SimFlash::flip_bit`] injects bit rot.

use alloc::vec;
use alloc::vec::Vec;

use super::{check_bounds, validate_geometry, Storage};
use crate::error::{Error, StorageError};

/// Seed used when [`SimFlash::with_seed`] is not called.
const DEFAULT_SEED: u64 = 0x7469_6465_6c6f_6721;

/// How a [`PowerCut`] cuts the power during the mutating op it targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Power fails before the op starts: nothing changes.
    Before,
    /// Power fails right after the op completed: all of it took effect.
    After,
    /// Program: a random prefix of `p` bytes (`0 <= p < len`) is programmed, the rest is not.
    /// Units wholly inside the prefix are marked; the unit holding byte `p` is marked only if
    /// one of its bytes changed.
    ///
    /// Erase: the sectors before a randomly chosen one are erased; the chosen sector gets a
    /// random prefix of its bytes set to `0xFF` and all its units marked (it must be erased
    /// again before it can be programmed); later sectors are untouched.
    TornPrefix,
    /// Program: like [`Cut::TornPrefix`], then in the unit holding byte `p` each remaining bit
    /// the program would clear is cleared with probability 1/2; that unit is marked iff any of
    /// its bits changed.
    ///
    /// Erase: like [`Cut::TornPrefix`], but in the chosen sector each bit is set to 1 with
    /// probability 1/2 instead of a prefix being erased.
    TornBits,
}

/// A power cut armed with [`SimFlash::set_fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerCut {
    /// Index of the mutating op (program or erase call, 0-based, as counted by
    /// [`SimFlash::mutating_ops`]) during which power fails. An index that has already passed
    /// never fires.
    pub at_op: u64,
    /// What the interrupted op leaves behind.
    pub cut: Cut,
}

/// Traffic counters of a [`SimFlash`]. Every call that reaches the powered device counts, with
/// the size it asked for (also calls rejected for their arguments and the op that is cut);
/// calls made while the device is off do not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// `read` calls.
    pub reads: u64,
    /// Bytes asked for by `read` calls.
    pub read_bytes: u64,
    /// `program` calls.
    pub programs: u64,
    /// Bytes passed to `program` calls.
    pub program_bytes: u64,
    /// Sectors covered by `erase` calls.
    pub erases: u64,
    /// `erase` calls.
    pub erase_calls: u64,
}

/// The physical state of a [`SimFlash`] (image and write-once marks), taken with
/// [`SimFlash::snapshot`] and put back with [`SimFlash::restore`].
#[derive(Clone)]
pub struct Snapshot {
    image: Vec<u8>,
    marks: Vec<u64>,
    write_size: usize,
    erase_size: usize,
}

impl Snapshot {
    /// The image (flash contents) at the time of the snapshot.
    pub fn image(&self) -> &[u8] {
        &self.image
    }
}

impl core::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Snapshot")
            .field("capacity", &self.image.len())
            .field("write_size", &self.write_size)
            .field("erase_size", &self.erase_size)
            .finish_non_exhaustive()
    }
}

/// splitmix64: tiny, deterministic, good enough for choosing cut points.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }
}

/// A simulated NOR flash in RAM that enforces the write-once rule and injects power cuts. See
/// the [module docs](self) for the model.
#[derive(Debug)]
pub struct SimFlash {
    image: Vec<u8>,
    /// One bit per write unit: programmed since the last erase.
    marks: Vec<u64>,
    write_size: usize,
    erase_size: usize,
    powered: bool,
    fault: Option<PowerCut>,
    ops: u64,
    stats: SimStats,
    rng: Rng,
}

impl SimFlash {
    /// A fully erased (`0xFF`, no unit marked) device. The geometry is checked with
    /// [`validate_geometry`].
    pub fn new(write_size: usize, erase_size: usize, capacity: usize) -> Result<Self, Error> {
        validate_geometry(1, write_size, erase_size, capacity)?;
        let units = capacity / write_size;
        Ok(SimFlash {
            image: vec![0xFF; capacity],
            marks: vec![0; units.div_ceil(64)],
            write_size,
            erase_size,
            powered: true,
            fault: None,
            ops: 0,
            stats: SimStats::default(),
            rng: Rng(DEFAULT_SEED),
        })
    }

    /// A device holding `image` (its length is the capacity). Every write unit that is not all
    /// `0xFF` is marked programmed.
    pub fn from_image(image: &[u8], write_size: usize, erase_size: usize) -> Result<Self, Error> {
        let mut sim = SimFlash::new(write_size, erase_size, image.len())?;
        sim.image.copy_from_slice(image);
        for (u, unit) in image.chunks_exact(write_size).enumerate() {
            if unit.iter().any(|&b| b != 0xFF) {
                sim.set_mark(u, true);
            }
        }
        Ok(sim)
    }

    /// Seeds the PRNG that picks the cut points of the torn modes.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Rng(seed);
        self
    }

    /// The flash contents.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// Traffic counters since creation or the last [`reset_stats`](Self::reset_stats).
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Zeroes the traffic counters (not [`mutating_ops`](Self::mutating_ops)).
    pub fn reset_stats(&mut self) {
        self.stats = SimStats::default();
    }

    /// Number of `program` and `erase` calls made while the device was powered (including
    /// rejected ones and the one that was cut). The next such call has this index, so a fault
    /// `k` ops from now is `PowerCut { at_op: sim.mutating_ops() + k, .. }`. Never reset.
    pub fn mutating_ops(&self) -> u64 {
        self.ops
    }

    /// Arms (`Some`) or disarms (`None`) a power cut.
    pub fn set_fault(&mut self, fault: Option<PowerCut>) {
        self.fault = fault;
    }

    /// `false` after a power cut until [`power_cycle`](Self::power_cycle) or
    /// [`restore`](Self::restore).
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Turns the device back on after a cut and disarms the fault. Contents and marks are
    /// unchanged.
    pub fn power_cycle(&mut self) {
        self.powered = true;
        self.fault = None;
    }

    /// Saves the physical state (image and marks).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            image: self.image.clone(),
            marks: self.marks.clone(),
            write_size: self.write_size,
            erase_size: self.erase_size,
        }
    }

    /// Puts back the physical state saved by [`snapshot`](Self::snapshot), powers the device
    /// on and disarms the fault. Counters and the PRNG are left as they are.
    ///
    /// # Panics
    ///
    /// If the snapshot was taken from a device of another geometry.
    pub fn restore(&mut self, s: &Snapshot) {
        assert!(
            s.image.len() == self.image.len()
                && s.write_size == self.write_size
                && s.erase_size == self.erase_size,
            "snapshot geometry does not match the device"
        );
        self.image.copy_from_slice(&s.image);
        self.marks.copy_from_slice(&s.marks);
        self.powered = true;
        self.fault = None;
    }

    /// Inverts bit `bit` (0 = least significant) of the byte at `addr`, leaving the marks
    /// alone. Works whether or not the device is powered.
    ///
    /// # Panics
    ///
    /// If `addr` is outside the device or `bit > 7`.
    pub fn flip_bit(&mut self, addr: u32, bit: u8) {
        assert!(bit < 8, "bit must be 0..=7");
        self.image[addr as usize] ^= 1 << bit;
    }

    /// Whether the write unit containing `addr` is marked programmed since its last erase.
    ///
    /// # Panics
    ///
    /// If `addr` is outside the device.
    pub fn is_programmed(&self, addr: u32) -> bool {
        assert!((addr as usize) < self.image.len(), "address out of bounds");
        self.mark(addr as usize / self.write_size)
    }

    fn mark(&self, unit: usize) -> bool {
        self.marks[unit / 64] & (1 << (unit % 64)) != 0
    }

    fn set_mark(&mut self, unit: usize, on: bool) {
        if on {
            self.marks[unit / 64] |= 1 << (unit % 64);
        } else {
            self.marks[unit / 64] &= !(1 << (unit % 64));
        }
    }

    /// Counts a mutating op and takes the fault if it targets this op.
    fn take_fault(&mut self) -> Option<Cut> {
        let index = self.ops;
        self.ops += 1;
        match self.fault {
            Some(f) if f.at_op == index => {
                self.fault = None;
                Some(f.cut)
            }
            _ => None,
        }
    }

    /// Cuts power after validation failed for a faulted op, and passes the error on.
    fn reject(&mut self, cut: Option<Cut>, e: StorageError) -> Result<(), StorageError> {
        if cut.is_some() {
            self.powered = false;
        }
        Err(e)
    }

    fn check_program(&self, addr: u32, len: usize) -> Result<(), StorageError> {
        super::check_program(addr, len, self.write_size, self.image.len())?;
        let first = addr as usize / self.write_size;
        if (first..first + len / self.write_size).any(|u| self.mark(u)) {
            return Err(StorageError::WriteTwice);
        }
        Ok(())
    }

    fn check_erase(&self, from: u32, to: u32) -> Result<(), StorageError> {
        super::check_erase(from, to, self.erase_size, self.image.len())?;
        Ok(())
    }

    fn erase_sector(&mut self, sector: usize) {
        let es = self.erase_size;
        self.image[sector * es..(sector + 1) * es].fill(0xFF);
        self.set_units(sector, false);
    }

    fn set_units(&mut self, sector: usize, on: bool) {
        let per = self.erase_size / self.write_size;
        for u in sector * per..(sector + 1) * per {
            self.set_mark(u, on);
        }
    }

    /// A torn program: see [`Cut::TornPrefix`] and [`Cut::TornBits`]. `bytes` is non-empty.
    fn torn_program(&mut self, a: usize, bytes: &[u8], bits: bool) {
        let ws = self.write_size;
        let p = self.rng.below(bytes.len());
        let full = p / ws;
        let u_off = full * ws; // offset of the unit holding byte p
        let mut before = [0u8; super::MAX_WRITE_SIZE];
        before[..ws].copy_from_slice(&self.image[a + u_off..a + u_off + ws]);
        for (m, b) in self.image[a..a + p].iter_mut().zip(&bytes[..p]) {
            *m &= *b;
        }
        for u in 0..full {
            self.set_mark(a / ws + u, true);
        }
        if bits {
            for (m, b) in self.image[a + p..a + u_off + ws]
                .iter_mut()
                .zip(&bytes[p..])
            {
                *m &= !(*m & !*b & self.rng.byte());
            }
        }
        if self.image[a + u_off..a + u_off + ws] != before[..ws] {
            self.set_mark(a / ws + full, true);
        }
    }

    /// A torn erase of `first..first + count` sectors (`count > 0`).
    fn torn_erase(&mut self, first: usize, count: usize, bits: bool) {
        let es = self.erase_size;
        let chosen = first + self.rng.below(count);
        for s in first..chosen {
            self.erase_sector(s);
        }
        let start = chosen * es;
        if bits {
            for i in start..start + es {
                let b = self.rng.byte();
                self.image[i] |= b;
            }
        } else {
            let q = self.rng.below(es);
            self.image[start..start + q].fill(0xFF);
        }
        self.set_units(chosen, true);
    }
}

impl Storage for SimFlash {
    fn read_size(&self) -> usize {
        1
    }
    fn write_size(&self) -> usize {
        self.write_size
    }
    fn erase_size(&self) -> usize {
        self.erase_size
    }
    fn capacity(&self) -> usize {
        self.image.len()
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        if !self.powered {
            return Err(StorageError::PowerLoss);
        }
        self.stats.reads += 1;
        self.stats.read_bytes += buf.len() as u64;
        check_bounds(addr, buf.len(), self.image.len())?;
        let a = addr as usize;
        buf.copy_from_slice(&self.image[a..a + buf.len()]);
        Ok(())
    }

    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        if !self.powered {
            return Err(StorageError::PowerLoss);
        }
        self.stats.programs += 1;
        self.stats.program_bytes += bytes.len() as u64;
        let cut = self.take_fault();
        if let Err(e) = self.check_program(addr, bytes.len()) {
            return self.reject(cut, e);
        }
        let a = addr as usize;
        match cut {
            Some(Cut::Before) => {}
            Some(Cut::TornPrefix | Cut::TornBits) if bytes.is_empty() => {}
            Some(c @ (Cut::TornPrefix | Cut::TornBits)) => {
                self.torn_program(a, bytes, c == Cut::TornBits)
            }
            None | Some(Cut::After) => {
                for (m, b) in self.image[a..a + bytes.len()].iter_mut().zip(bytes) {
                    *m &= *b;
                }
                let first = a / self.write_size;
                for u in first..first + bytes.len() / self.write_size {
                    self.set_mark(u, true);
                }
            }
        }
        if cut.is_some() {
            self.powered = false;
            return Err(StorageError::PowerLoss);
        }
        Ok(())
    }

    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        if !self.powered {
            return Err(StorageError::PowerLoss);
        }
        let es = self.erase_size as u64;
        self.stats.erase_calls += 1;
        self.stats.erases += (to as u64).saturating_sub(from as u64).div_ceil(es);
        let cut = self.take_fault();
        if let Err(e) = self.check_erase(from, to) {
            return self.reject(cut, e);
        }
        let (first, end) = (
            from as usize / self.erase_size,
            to as usize / self.erase_size,
        );
        match cut {
            Some(Cut::Before) => {}
            Some(Cut::TornPrefix | Cut::TornBits) if first == end => {}
            Some(c @ (Cut::TornPrefix | Cut::TornBits)) => {
                self.torn_erase(first, end - first, c == Cut::TornBits)
            }
            None | Some(Cut::After) => {
                for s in first..end {
                    self.erase_sector(s);
                }
            }
        }
        if cut.is_some() {
            self.powered = false;
            return Err(StorageError::PowerLoss);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.powered {
            Ok(())
        } else {
            Err(StorageError::PowerLoss)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: usize = 4;
    const ES: usize = 256;

    fn sim() -> SimFlash {
        SimFlash::new(WS, ES, 4 * ES).unwrap()
    }

    fn read(s: &mut SimFlash, addr: u32, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        s.read(addr, &mut v).unwrap();
        v
    }

    fn cut(at_op: u64, cut: Cut) -> Option<PowerCut> {
        Some(PowerCut { at_op, cut })
    }

    #[test]
    fn geometry_alignment_and_bounds() {
        assert!(SimFlash::new(3, ES, ES).is_err());
        assert!(SimFlash::new(WS, ES, ES + 1).is_err());
        let mut s = sim();
        let cap = s.capacity() as u32;
        assert_eq!(s.program(2, &[0; 4]), Err(StorageError::NotAligned));
        assert_eq!(s.program(0, &[0; 3]), Err(StorageError::NotAligned));
        assert_eq!(s.program(cap - 4, &[0; 8]), Err(StorageError::OutOfBounds));
        assert_eq!(s.erase(1, ES as u32), Err(StorageError::NotAligned));
        assert_eq!(s.erase(0, cap + ES as u32), Err(StorageError::OutOfBounds));
        assert_eq!(s.erase(ES as u32, 0), Err(StorageError::OutOfBounds));
        assert_eq!(s.read(cap - 1, &mut [0; 2]), Err(StorageError::OutOfBounds));
        assert!(s.image().iter().all(|&b| b == 0xFF));
        assert_eq!(s.mutating_ops(), 6);
    }

    #[test]
    fn write_twice_and_and_semantics() {
        let mut s = sim();
        s.program(4, &[0xF0, 0x0F, 0xAA, 0x55]).unwrap();
        assert!(s.is_programmed(7) && !s.is_programmed(8) && !s.is_programmed(3));
        // One marked unit in the range rejects the whole program.
        assert_eq!(s.program(0, &[0; 8]), Err(StorageError::WriteTwice));
        assert_eq!(
            read(&mut s, 0, 8),
            [0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0x0F, 0xAA, 0x55]
        );
        s.erase(0, ES as u32).unwrap();
        assert!(!s.is_programmed(4));
        s.program(0, &[0xFF; 4]).unwrap(); // all-0xFF still marks the unit
        assert_eq!(s.program(0, &[0; 4]), Err(StorageError::WriteTwice));
        // AND semantics: bits can only be cleared (from_image starts with data in place).
        let mut img = vec![0xFF; ES];
        img[8] = 0x0F;
        let mut s = SimFlash::from_image(&img, WS, ES).unwrap();
        assert!(s.is_programmed(8) && !s.is_programmed(4));
        s.flip_bit(8, 4); // bit rot does not touch marks
        assert_eq!(s.image()[8], 0x1F);
        assert_eq!(s.program(8, &[0xF3; 4]), Err(StorageError::WriteTwice));
        s.flip_bit(0, 7);
        s.program(0, &[0xF3, 0xFF, 0, 0x3C]).unwrap();
        assert_eq!(read(&mut s, 0, 4), [0x73, 0xFF, 0, 0x3C]);
    }

    #[test]
    fn before_and_after_cuts() {
        let mut s = sim();
        s.set_fault(cut(1, Cut::Before));
        s.program(0, &[0; 4]).unwrap();
        assert_eq!(s.program(4, &[0; 4]), Err(StorageError::PowerLoss));
        assert!(!s.is_powered() && !s.is_programmed(4) && s.image()[4] == 0xFF);
        // Off: everything fails and nothing changes or counts.
        let st = s.stats();
        assert_eq!(s.read(0, &mut [0; 1]), Err(StorageError::PowerLoss));
        assert_eq!(s.sync(), Err(StorageError::PowerLoss));
        assert_eq!(s.erase(0, ES as u32), Err(StorageError::PowerLoss));
        assert_eq!((s.stats(), s.mutating_ops(), s.image()[0]), (st, 2, 0));
        s.power_cycle();
        assert!(s.is_powered());
        s.sync().unwrap();
        s.set_fault(cut(2, Cut::After));
        assert_eq!(s.erase(0, ES as u32), Err(StorageError::PowerLoss));
        assert!(!s.is_powered() && s.image()[0] == 0xFF && !s.is_programmed(0));
        s.power_cycle();
        // A faulted op that is invalid reports its own error and still cuts power.
        s.set_fault(cut(3, Cut::After));
        assert_eq!(s.program(1, &[0; 4]), Err(StorageError::NotAligned));
        assert!(!s.is_powered());
    }

    #[test]
    fn torn_programs() {
        let data: Vec<u8> = (0..64u8).collect(); // every byte differs from 0xFF
        let (mut mid_unit, mut partial_bytes) = (false, false);
        for seed in 0..200u64 {
            for mode in [Cut::TornPrefix, Cut::TornBits] {
                let mut s = sim().with_seed(seed);
                s.set_fault(cut(0, mode));
                assert_eq!(s.program(8, &data), Err(StorageError::PowerLoss));
                assert!(!s.is_powered());
                let img = &s.image()[8..72];
                // The first byte that differs from the data lies in the torn unit `k`.
                let p = img.iter().zip(&data).take_while(|(a, b)| a == b).count();
                let k = p.min(data.len() - 1) / WS;
                assert!(img.iter().zip(&data).all(|(&a, &d)| a & d == d));
                let unit = |u: usize| &img[u * WS..(u + 1) * WS];
                let changed = unit(k).iter().any(|&b| b != 0xFF);
                assert_eq!(s.is_programmed((8 + k * WS) as u32), changed);
                assert!((0..k).all(|u| s.is_programmed((8 + u * WS) as u32)));
                for u in k + 1..data.len() / WS {
                    assert!(!s.is_programmed((8 + u * WS) as u32));
                    assert!(unit(u).iter().all(|&b| b == 0xFF));
                }
                assert!(s.image()[..8].iter().all(|&b| b == 0xFF));
                if mode == Cut::TornPrefix {
                    assert!(p < data.len(), "prefix must be shorter than the program");
                    assert!(img[p..].iter().all(|&b| b == 0xFF));
                    mid_unit |= p % WS != 0;
                } else {
                    partial_bytes |= img.iter().zip(&data).any(|(&a, &d)| a != d && a != 0xFF);
                }
                s.power_cycle();
                assert!(s.is_powered() && s.read(0, &mut [0; 4]).is_ok());
            }
        }
        assert!(
            mid_unit && partial_bytes,
            "torn modes must cut inside units and bytes"
        );
    }

    #[test]
    fn torn_erase_leaves_marks() {
        for seed in 0..50u64 {
            for mode in [Cut::TornPrefix, Cut::TornBits] {
                let mut s = SimFlash::from_image(&[0u8; 4 * ES], WS, ES)
                    .unwrap()
                    .with_seed(seed);
                s.set_fault(cut(0, mode));
                assert_eq!(s.erase(0, 3 * ES as u32), Err(StorageError::PowerLoss));
                s.power_cycle();
                let erased = |s: &SimFlash, k: usize| {
                    s.image()[k * ES..(k + 1) * ES].iter().all(|&b| b == 0xFF)
                        && !s.is_programmed((k * ES) as u32)
                };
                let chosen = (0..3).find(|&k| !erased(&s, k)).unwrap();
                assert!((0..chosen).all(|k| erased(&s, k)));
                assert!((chosen * ES..(chosen + 1) * ES)
                    .step_by(WS)
                    .all(|a| s.is_programmed(a as u32)));
                let torn = &s.image()[chosen * ES..(chosen + 1) * ES];
                if mode == Cut::TornPrefix {
                    let q = torn.iter().take_while(|&&b| b == 0xFF).count();
                    assert!(torn[q..].iter().all(|&b| b == 0));
                } else {
                    assert!(torn.iter().any(|&b| b != 0 && b != 0xFF)); // bits, not bytes
                }
                assert!(s.image()[(chosen + 1) * ES..].iter().all(|&b| b == 0));
                let a = (chosen * ES) as u32;
                assert_eq!(s.program(a, &[0; 4]), Err(StorageError::WriteTwice));
            }
        }
    }

    #[test]
    fn snapshot_restore_and_stats() {
        let mut s = sim();
        s.program(0, &[1, 2, 3, 4]).unwrap();
        let snap = s.snapshot();
        s.erase(0, 2 * ES as u32).unwrap();
        s.program(16, &[0; 8]).unwrap();
        s.set_fault(cut(s.mutating_ops(), Cut::Before));
        assert!(s.program(64, &[0; 4]).is_err());
        s.restore(&snap);
        assert!(s.is_powered() && s.image() == snap.image());
        assert!(s.is_programmed(0) && !s.is_programmed(16));
        assert_eq!(read(&mut s, 0, 4), [1, 2, 3, 4]);
        let want = SimStats {
            reads: 1,
            read_bytes: 4,
            programs: 3,
            program_bytes: 16,
            erases: 2,
            erase_calls: 1,
        };
        assert_eq!((s.stats(), s.mutating_ops()), (want, 4));
        s.reset_stats();
        assert_eq!(s.stats(), SimStats::default());
        // Same seed, same cut: replays are deterministic.
        let run = |seed| {
            let mut s = sim().with_seed(seed);
            s.set_fault(cut(0, Cut::TornBits));
            let _ = s.program(0, &[0; 64]);
            s.snapshot().image().to_vec()
        };
        assert_eq!(run(7), run(7));
    }
}

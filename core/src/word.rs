//! [`U64`]: a `u64` kept 4-byte aligned in RAM.
//!
//! On 32-bit ARM a `u64` is 8-byte aligned, so every struct holding one is too, and LLVM
//! clears and copies such structs with `__aeabi_memclr8` / `__aeabi_memcpy8`: runtime routines
//! linked next to the 4-aligned ones for that alone. The log's own RAM structs (the log, its
//! durable state and cursors, read hints, iterators, chain members) keep their 64-bit offsets
//! in this wrapper or are `packed(4)` themselves, so they are 4-aligned: on thumbv7em the log
//! probe lost 150 B of code and `Log<NorFlash,4>` 28 B of padding (`bash footprint/measure.sh`).
//! `memcpy8` stays linked: firmware moves the `Log` out of `mount`'s `Result`, which the
//! public [`Error`](crate::Error) (64-bit offsets in its variants) makes 8-aligned.
//! `packed(4)` needs no `unsafe`: the value is only ever read and written whole.

/// A `u64` with 4-byte alignment (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(Rust, packed(4))]
pub(crate) struct U64(u64);

impl U64 {
    /// Wraps `v`.
    #[inline(always)]
    pub(crate) const fn new(v: u64) -> Self {
        U64(v)
    }

    /// The value.
    #[inline(always)]
    pub(crate) const fn get(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::U64;

    #[test]
    fn holds_every_value_and_is_4_aligned() {
        for v in [0, 1, u32::MAX as u64, 1 << 32, u64::MAX] {
            assert_eq!(U64::new(v).get(), v);
        }
        assert!(core::mem::align_of::<U64>() <= 4);
        assert_eq!(core::mem::size_of::<U64>(), 8);
    }
}

//! When the full policy is chosen: at run time from [`Config`](crate::Config), or fixed at
//! compile time by the log's type.
//!
//! [`Log`](crate::Log)'s third type parameter picks one of the types below. The default,
//! [`FromConfig`], takes [`Config::full_policy`](crate::Config::full_policy) at `format`/`mount`,
//! so one build can open logs of either kind (the host tools and the bindings do). Firmware
//! that only ever runs one policy names it in the type instead, and the compiler drops the
//! other policy's code: on a Cortex-M4 the log built with [`OverwriteOldest`] is 1.2 KB
//! smaller (the spare segment, the reserve that replaces it after a truncation and the
//! reclaim-on-commit path exist only for [`FullPolicy::Reject`]):
//!
//! ```
//! use tidelog::{policy, Config, Log, RamStorage};
//! # let mut mem = [0xFFu8; 4096];
//! // A ring buffer whatever the Config says.
//! type Ring<'m> = Log<RamStorage<'m>, 4, policy::OverwriteOldest>;
//! let log: Ring = Log::format(RamStorage::new(&mut mem, 4, 1024).unwrap(), Config::new())?;
//! assert_eq!(log.full_policy(), tidelog::FullPolicy::OverwriteOldest);
//! # Ok::<(), tidelog::Error>(())
//! ```
//!
//! A fixed policy wins over the `Config` field, which is then ignored. The policy is never
//! stored on the medium: the same image opens under any of them.

use crate::config::FullPolicy;

mod sealed {
    pub trait Sealed {}
}

/// How a [`Log`](crate::Log) gets its [`FullPolicy`]; implemented by [`FromConfig`],
/// [`Reject`] and [`OverwriteOldest`] only.
pub trait Policy: sealed::Sealed {
    /// `Some(p)`: the log always runs `p`. `None`: it runs the one its `Config` gave.
    const FIXED: Option<FullPolicy>;
}

/// The policy comes from [`Config::full_policy`](crate::Config::full_policy) (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct FromConfig;

/// Always [`FullPolicy::Reject`], whatever the `Config` says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reject;

/// Always [`FullPolicy::OverwriteOldest`], whatever the `Config` says.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverwriteOldest;

impl sealed::Sealed for FromConfig {}
impl sealed::Sealed for Reject {}
impl sealed::Sealed for OverwriteOldest {}

impl Policy for FromConfig {
    const FIXED: Option<FullPolicy> = None;
}
impl Policy for Reject {
    const FIXED: Option<FullPolicy> = Some(FullPolicy::Reject);
}
impl Policy for OverwriteOldest {
    const FIXED: Option<FullPolicy> = Some(FullPolicy::OverwriteOldest);
}

/// The policy a log of policy type `P` runs when its `Config` asks for `configured`.
pub(crate) const fn resolve<P: Policy>(configured: FullPolicy) -> FullPolicy {
    match P::FIXED {
        Some(p) => p,
        None => configured,
    }
}

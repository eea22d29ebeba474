//! With feature `defmt`, the types firmware logs — errors and their codes, the configuration
//! errors, the full policy, the log's and the KV's stats, mount's recovery report — implement
//! `defmt::Format`, so `defmt::info!("{}", err)` works without a wrapper. (The formatting
//! itself runs on a target with a defmt logger; this checks the impls exist and stay.)
#![cfg(feature = "defmt")]

use tidelog::{
    ConfigError, Error, ErrorCode, FullPolicy, KvStats, RecoveryReport, Stats, StorageError,
};

fn formats<T: defmt::Format>() -> &'static str {
    core::any::type_name::<T>()
}

#[test]
fn the_public_error_and_report_types_implement_defmt_format() {
    let names = [
        formats::<Error>(),
        formats::<ErrorCode>(),
        formats::<StorageError>(),
        formats::<ConfigError>(),
        formats::<FullPolicy>(),
        formats::<Stats>(),
        formats::<KvStats>(),
        formats::<RecoveryReport>(),
    ];
    assert!(
        names.iter().all(|n| n.starts_with("tidelog::")),
        "{names:?}"
    );
}

//! Group and stream names: validation, and the file names that carry them.
//!
//! On disk a group is the directory `<seq>.<group>` and a stream the file
//! `<seq>.<stream>.tlog` inside its group's directory, where `<seq>` is the creation sequence
//! number as 16 lowercase hex digits. The number orders listings (most recent first) without
//! trusting file times, and makes a plain `ls` chronological.

use crate::error::Error;
use crate::storage::FileError;
use std::format;
use std::string::String;

/// Longest group or stream name, in bytes (a file name also holds the 17-byte sequence
/// prefix and the `.tlog` suffix, within the usual 255-byte limit).
pub const MAX_NAME_LEN: usize = 200;

/// Suffix of stream files.
pub(crate) const STREAM_SUFFIX: &str = ".tlog";
/// Prefix of temporary files and directories (never a valid entry: no sequence number).
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Checks a group or stream name (`what` is "group" or "stream", for the message):
/// [`Error::InvalidName`] for an empty name, `.` or `..`, a path separator (`/`, `\`), NUL or
/// another control character, or more than [`MAX_NAME_LEN`] bytes.
pub(crate) fn validate(what: &str, name: &str) -> Result<(), FileError> {
    let why = if name.is_empty() {
        "empty"
    } else if name == "." || name == ".." {
        "'.' and '..' are reserved"
    } else if name.contains(['/', '\\']) {
        "contains a path separator"
    } else if name.contains('\0') {
        "contains NUL"
    } else if name.chars().any(char::is_control) {
        "contains a control character"
    } else if name.len() > MAX_NAME_LEN {
        "longer than 200 bytes"
    } else {
        return Ok(());
    };
    Err(FileError::new(Error::InvalidName, format!("{what} {name:?}")).with_detail(why))
}

/// The file name of an entry: `<seq>.<name><suffix>`.
pub(crate) fn entry_name(seq: u64, name: &str, suffix: &str) -> String {
    format!("{seq:016x}.{name}{suffix}")
}

/// Parses an entry's file name back into its sequence number and name; `None` for anything
/// else (temporary files, foreign files, invalid names).
pub(crate) fn parse_entry<'a>(file_name: &'a str, suffix: &str) -> Option<(u64, &'a str)> {
    let rest = file_name.strip_suffix(suffix)?;
    let (hex, name) = (rest.get(..16)?, rest.get(16..)?.strip_prefix('.')?);
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let seq = u64::from_str_radix(hex, 16).ok()?;
    validate("", name).ok()?;
    Some((seq, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_round_trip() {
        let n = entry_name(0x2a, "a.b c", STREAM_SUFFIX);
        assert_eq!(n, "000000000000002a.a.b c.tlog");
        assert_eq!(parse_entry(&n, STREAM_SUFFIX), Some((0x2a, "a.b c")));
        assert_eq!(parse_entry(&entry_name(7, "g", ""), ""), Some((7, "g")));
        assert_eq!(parse_entry(".tmp-1-2", ""), None);
        assert_eq!(parse_entry("000000000000002A.x", ""), None);
        assert_eq!(parse_entry("000000000000002a.", ""), None);
        assert_eq!(
            parse_entry("000000000000002a.x.tlog", ""),
            Some((42, "x.tlog"))
        );
    }
}

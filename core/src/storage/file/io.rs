//! Platform plumbing for [`FileStorage`](super::FileStorage): positioned reads and writes,
//! the writer lock, preallocation and directory syncs.

use super::FileError;
use crate::error::Error;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Reads exactly `buf.len()` bytes at `offset` (`pread`).
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Writes all of `buf` at `offset` (`pwrite`).
pub(crate) fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    write_tagged(file, buf, offset, false)
}

/// [`write_at`] for held-back index slots (the unit tests' trace tells them apart).
pub(crate) fn write_slots_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    write_tagged(file, buf, offset, true)
}

fn write_tagged(file: &File, buf: &[u8], offset: u64, slots: bool) -> io::Result<()> {
    #[cfg(test)]
    super::trace::record(super::trace::Event::Write {
        at: offset,
        bytes: buf.to_vec(),
        slots,
    });
    #[cfg(not(test))]
    let _ = slots;
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_write(file, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Takes the exclusive writer lock without waiting: [`Error::Locked`] if another handle (in
/// this process or another) holds it.
pub(crate) fn try_lock(file: &File, path: &Path) -> Result<(), FileError> {
    // Trait-qualified: std's own `File::try_lock` (Rust 1.89+) would otherwise shadow fs4's.
    match fs4::FileExt::try_lock(file) {
        Ok(()) => Ok(()),
        Err(fs4::TryLockError::WouldBlock) => Err(FileError::at(Error::Locked, path)),
        Err(fs4::TryLockError::Error(e)) => Err(FileError::io(e, path)),
    }
}

/// Takes the blocking exclusive lock (for short critical sections, e.g. a directory's
/// creation lock).
pub(crate) fn lock_blocking(file: &File, path: &Path) -> Result<(), FileError> {
    fs4::FileExt::lock(file).map_err(|e| FileError::io(e, path))
}

/// Opens `path` read-write and takes the writer lock. If the file was replaced (renamed over)
/// between the open and the lock, the lock is on a file that no longer has this name: open
/// again, so the lock always covers the file the path names.
pub(crate) fn open_locked(path: &Path) -> Result<File, FileError> {
    for _ in 0..16 {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| FileError::io(e, path))?;
        try_lock(&file, path)?;
        if names_same_file(&file, path).map_err(|e| FileError::io(e, path))? {
            return Ok(file);
        }
    }
    Err(FileError::at(Error::Locked, path))
}

/// True when `path` still names the open `file`.
fn names_same_file(file: &File, path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (file.metadata()?, std::fs::metadata(path));
        match b {
            Ok(b) => Ok(a.dev() == b.dev() && a.ino() == b.ino()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
    #[cfg(windows)]
    {
        let _ = (file, path);
        Ok(true)
    }
}

/// Reserves `len` bytes of disk space for `file` where the file system supports it.
pub(crate) fn preallocate(file: &File, len: u64) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    match fs4::FileExt::allocate(file, len) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(95) => Ok(()),
        r => r,
    }
}

/// Makes the directory entries in `dir` durable (`fsync` on the directory; a no-op on
/// Windows, which has no such call).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(windows)]
    {
        let _ = dir;
        Ok(())
    }
}

/// Syncs the directory holding `path`.
pub(crate) fn sync_parent_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// Makes the file's data durable (`fdatasync`).
pub(crate) fn sync_data(file: &File) -> io::Result<()> {
    #[cfg(test)]
    super::trace::record(super::trace::Event::Sync);
    file.sync_data()
}

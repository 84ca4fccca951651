//! Log files in a directory (`--logdir`): created at their first write, and rotated the way
//! Zeek rotates its ASCII logs.
//!
//! In: the bytes a log writer produces (whole rows: every writer hands over complete lines),
//! and rotation requests. Out: `DIR/ssl.log` (or any other name), created only when a first
//! byte comes (Zeek writes no file for a log without rows); at a rotation the file is flushed,
//! closed and renamed to Zeek's default name for a rotated ASCII log,
//! `<path>.<open time>.log` with the time in `Log::default_rotation_date_format`
//! (`%Y-%m-%d-%H-%M-%S`, here in UTC), and the next write creates a new file.
//!
//! A [`LogFile`] is a cheap handle: clones share the file, so that the run's writer and the
//! code that rotates it (the live capture loop) can both hold one, from any thread.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::writer::format_log_time;

/// Output buffer of a log file: rows are small, writes are batched.
const LOG_FILE_BUFFER: usize = 1 << 16;

/// A log file created at its first write and renamed at each rotation; see the module docs.
#[derive(Clone)]
pub struct LogFile {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl LogFile {
    /// A log to be written at `path` (nothing is created yet).
    pub fn new(path: PathBuf) -> Self {
        LogFile {
            inner: Arc::new(Mutex::new(Inner { path, file: None })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A writer that panicked mid-write left whole rows at worst (each write is a batch of
        // complete lines); keep writing rather than propagate the panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the current file, if one was created since the last rotation, and renames it to
    /// Zeek's rotated name for a file opened at `opened` (see the module docs). Returns the new
    /// path, or `None` when there was no file (no rows in the interval).
    pub fn rotate(&self, opened: f64) -> io::Result<Option<PathBuf>> {
        let mut inner = self.lock();
        let Some(mut file) = inner.file.take() else {
            return Ok(None);
        };
        file.flush()?;
        drop(file);
        let target = free_name(&rotated_name(&inner.path, opened));
        std::fs::rename(&inner.path, &target).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} -> {}: {e}", inner.path.display(), target.display()),
            )
        })?;
        Ok(Some(target))
    }
}

impl Inner {
    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        if self.file.is_none() {
            let f = File::create(&self.path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
            self.file = Some(BufWriter::with_capacity(LOG_FILE_BUFFER, f));
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // The whole buffer at once: rows from several threads never interleave mid-line.
        self.lock().file()?.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.lock().file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// Zeek's name for the rotated file of `path` (`DIR/ssl.log`) opened at `opened`:
/// `DIR/ssl.2026-12-06-05-00-00.log`.
pub fn rotated_name(path: &Path, opened: f64) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| format!(".{}", s.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}.{}{ext}", format_log_time(opened)))
}

/// `target`, or when a file of that name exists (two rotations within one second, e.g. two
/// quick SIGHUPs), the first free `<name>-N.log`: a rotation never overwrites a log.
fn free_name(target: &Path) -> PathBuf {
    if !target.exists() {
        return target.to_path_buf();
    }
    let stem = target
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = target
        .extension()
        .map(|s| format!(".{}", s.to_string_lossy()))
        .unwrap_or_default();
    (1u32..)
        .map(|n| target.with_file_name(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| target.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tls-analyzer-logfile-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn rotated_names_are_zeeks() {
        // 2026-12-06 05:00:00 UTC.
        let t = 1_796_533_200.0;
        assert_eq!(
            rotated_name(Path::new("/d/ssl.log"), t),
            PathBuf::from("/d/ssl.2026-12-06-05-00-00.log")
        );
    }

    #[test]
    fn created_at_first_write_and_renamed_at_rotation_without_loss() {
        let dir = scratch("rotate");
        let path = dir.join("ssl.log");
        let mut log = LogFile::new(path.clone());
        let rotator = log.clone();
        // Nothing written: no file, and rotating creates none.
        assert_eq!(rotator.rotate(1.0).expect("rotate"), None);
        assert!(!path.exists());
        log.write_all(b"row 1\n").expect("write");
        let first = rotator.rotate(1.0).expect("rotate").expect("a file");
        assert_eq!(first, dir.join("ssl.1970-01-01-00-00-01.log"));
        assert!(!path.exists());
        log.write_all(b"row 2\n").expect("write");
        log.flush().expect("flush");
        // A second rotation in the same second keeps both files.
        let second = rotator.rotate(1.0).expect("rotate").expect("a file");
        assert_eq!(second, dir.join("ssl.1970-01-01-00-00-01-1.log"));
        assert_eq!(std::fs::read(&first).expect("first"), b"row 1\n");
        assert_eq!(std::fs::read(&second).expect("second"), b"row 2\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

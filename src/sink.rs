//! Where JSON lines go: an append-only file in `data_dir`, or stdout.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A JSON Lines destination. Writes are buffered; `flush` pushes them to the OS.
pub enum Sink {
    File { path: PathBuf, out: BufWriter<File> },
    Stdout(BufWriter<io::Stdout>),
}

impl Sink {
    /// Opens `path` for appending (creating its folder), or stdout for "-".
    pub fn open(path: &Path) -> io::Result<Sink> {
        if path == Path::new("-") {
            return Ok(Sink::Stdout(BufWriter::with_capacity(
                1 << 20,
                io::stdout(),
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Sink::File {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 20, file),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::File { out, .. } => out.write_all(bytes),
            Sink::Stdout(out) => out.write_all(bytes),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File { out, .. } => out.flush(),
            Sink::Stdout(out) => out.flush(),
        }
    }

    /// Where it writes, for messages.
    pub fn describe(&self) -> String {
        match self {
            Sink::File { path, .. } => path.display().to_string(),
            Sink::Stdout(_) => "stdout".into(),
        }
    }
}

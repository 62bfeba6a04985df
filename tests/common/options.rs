//! How a test starts the collector: in this process or as the real binary, with what config,
//! arguments, data dir and limits.

use std::path::PathBuf;

/// How to start the collector.
pub struct Options {
    pub shards: usize,
    /// TOML text for `--config`.
    pub config: Option<String>,
    /// Run the real binary rather than in this process.
    pub binary: bool,
    /// `--records -`: records go to stdout, which is captured (binary only).
    pub records_to_stdout: bool,
    /// With `records_to_stdout`: stdout is not read until `Collector::open_stdout`, so that the
    /// collector's writes block (a slow consumer).
    pub hold_stdout: bool,
    /// Listen on UDP too (`--udp 127.0.0.1:0`).
    pub udp: bool,
    /// More arguments for `ztel serve` (`--tls`, `--admin`, …).
    pub args: Vec<String>,
    /// A data dir of an earlier run (a restart); by default a new one.
    pub data_dir: Option<PathBuf>,
    /// RLIMIT_NOFILE, soft and hard, for the binary: a shell's low limit.
    pub nofile: Option<u64>,
}

impl Options {
    /// The defaults, run as the real binary.
    pub fn binary() -> Options {
        Options {
            binary: true,
            ..Options::default()
        }
    }

    /// The real binary with the admin endpoint on a port of its own, on `data` (a restart's)
    /// or a new data dir: what the tests across restarts read `/devices` and `/attribution` of.
    pub fn binary_with_admin(data: Option<PathBuf>) -> Options {
        Options {
            args: vec!["--admin".into(), "127.0.0.1:0".into()],
            data_dir: data,
            ..Options::binary()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            shards: 1,
            config: None,
            binary: false,
            records_to_stdout: false,
            hold_stdout: false,
            udp: false,
            args: Vec::new(),
            data_dir: None,
            nofile: None,
        }
    }
}

//! The default of every key (DESIGN §2.2): what an empty file, or no file, runs.

use std::path::PathBuf;

use super::{
    Address, Admin, Cidr, Config, Formats, Histograms, HttpInput, Inputs, Limits, Nats, Output,
    PlainInput, TlsInput,
};

fn loopback() -> Vec<Cidr> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect()
}

fn listen(addr: &str) -> Address {
    addr.parse().unwrap_or_default()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shards: 0,
            data_dir: PathBuf::from("ztel-data"),
            feed_timezone: "UTC".into(),
            input: Inputs::default(),
            limits: Limits::default(),
            formats: Formats::default(),
            output: Output::default(),
            admin: Admin::default(),
            histograms: Histograms::default(),
        }
    }
}

// A section's own default fills the keys it leaves out: `[input.tcp]` with only allowed_ips
// must keep the input on its port, not turn it off.
impl Default for PlainInput {
    fn default() -> Self {
        PlainInput {
            address: listen("0.0.0.0:1514"),
            feed_timezone: String::new(),
            allowed_ips: loopback(),
        }
    }
}

impl Default for TlsInput {
    fn default() -> Self {
        TlsInput {
            address: listen("0.0.0.0:6514"),
            feed_timezone: String::new(),
            cert: String::new(),
            key: String::new(),
            client_ca: String::new(),
            allowed_ips: loopback(),
        }
    }
}

impl Default for HttpInput {
    fn default() -> Self {
        HttpInput {
            address: Address::default(),
            feed_timezone: String::new(),
            cert: String::new(),
            key: String::new(),
            plain: false,
            header: "X-Ztel-Key".into(),
            keys: Vec::new(),
            allowed_ips: loopback(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 262_144,
            max_connections: 4096,
            idle_timeout_secs: 300,
            buffer_budget_bytes: 256 << 20,
            max_devices: 4_000_000,
        }
    }
}

impl Default for Output {
    fn default() -> Self {
        Output {
            records: "connections.jsonl".into(),
            devices: "devices.jsonl".into(),
            rotate_bytes: 1 << 30,
            nats: Nats::default(),
        }
    }
}

impl Default for Nats {
    fn default() -> Self {
        Nats {
            url: String::new(),
            creds: String::new(),
            tls_ca: String::new(),
            stream: "ZTEL".into(),
            subject_prefix: "ztel".into(),
            duplicate_window_secs: 900,
            registry_bucket: "ztel-devices".into(),
            spool_bytes: 1 << 30,
        }
    }
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            address: listen("127.0.0.1:9514"),
        }
    }
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            interval_secs: 10,
            log: "latency.hlog".into(),
        }
    }
}

//! `/metrics`: the aggregator's snapshot in the Prometheus text exposition format.

use std::fmt::Write as _;

use wire::event::{Kind, Reason};

use crate::aggregate::state::Snapshot;
use crate::batch::counters::{metric_name, Counter, Counters};

/// Renders the Prometheus text exposition format (version 0.0.4).
pub fn prometheus(s: &Snapshot) -> String {
    let mut out = String::with_capacity(16 << 10);
    let shard_rows = |c: &dyn Fn(&Counters) -> u64, out: &mut String, name: &str| {
        for (i, counts) in s.shards.iter().enumerate() {
            let _ = writeln!(out, "{name}{{shard=\"{i}\"}} {}", c(counts));
        }
        let _ = writeln!(out, "{name}{{shard=\"all\"}} {}", c(&s.totals));
    };
    for c in Counter::ALL {
        let name = format!("ztel_{}_total", c.name());
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", c.help());
        shard_rows(&|counts| counts.get(c), &mut out, &name);
    }
    for kind in Kind::ALL {
        let name = format!("ztel_records_{}_total", metric_name(kind));
        let _ = writeln!(
            out,
            "# HELP {name} {} records written.\n# TYPE {name} counter",
            kind.as_str()
        );
        shard_rows(&|counts| counts.records_of(kind), &mut out, &name);
    }
    let name = "ztel_dead_letters_by_reason_total";
    let _ = writeln!(
        out,
        "# HELP {name} Dead letters by reason.\n# TYPE {name} counter"
    );
    for r in Reason::ALL {
        for (i, counts) in s.shards.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}{{reason=\"{}\",shard=\"{i}\"}} {}",
                r.as_str(),
                counts.parse_errors(r)
            );
        }
        let _ = writeln!(
            out,
            "{name}{{reason=\"{}\",shard=\"all\"}} {}",
            r.as_str(),
            s.totals.parse_errors(r)
        );
    }
    let name = "ztel_connections_open";
    let _ = writeln!(
        out,
        "# HELP {name} TCP, TLS and HTTP connections open now.\n# TYPE {name} gauge"
    );
    shard_rows(
        &|c| {
            c.get(Counter::ConnectionsOpened)
                .saturating_sub(c.get(Counter::ConnectionsClosed))
        },
        &mut out,
        name,
    );
    for (name, help, value) in [
        ("ztel_devices", "Devices in the registry.", s.devices),
        (
            "ztel_channel_depth",
            "Batches waiting for the aggregator.",
            s.channel_depth,
        ),
        (
            "ztel_channel_capacity",
            "Batches the channel holds before shards stop reading.",
            s.channel_capacity,
        ),
        (
            "ztel_attribution_entries",
            "ZPA connections in the attribution table.",
            s.attribution_entries,
        ),
        (
            "ztel_devices_unsaved",
            "Devices changed since the registry was last saved to disk.",
            s.devices_unsaved,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    for l in &s.latency {
        let name = format!("ztel_latency_{}_seconds", l.name);
        let p = &l.since_start;
        let _ = writeln!(
            out,
            "# HELP {name} Latency {} since start.\n# TYPE {name} summary",
            l.name.replace('_', " ")
        );
        for (q, v) in [
            ("0.5", p.p50),
            ("0.9", p.p90),
            ("0.99", p.p99),
            ("0.999", p.p99_9),
            ("0.9999", p.p99_99),
        ] {
            let _ = writeln!(out, "{name}{{quantile=\"{q}\"}} {}", micros(v));
        }
        let _ = writeln!(out, "{name}_sum {}", p.mean * p.count as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {}", p.count);
        let max = format!("ztel_latency_{}_max_seconds", l.name);
        let _ = writeln!(
            out,
            "# HELP {max} Largest latency {} since start.\n# TYPE {max} gauge\n{max} {}",
            l.name.replace('_', " "),
            micros(p.max)
        );
    }
    out
}

fn micros(v: u64) -> f64 {
    v as f64 / 1e6
}

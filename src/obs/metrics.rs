//! `/metrics`: the aggregator's snapshot in the Prometheus text exposition format, in Prometheus's
//! conventions (DESIGN §5): one series per shard and input, a `kind` label on records, no
//! pre-summed series (queries sum), `ztel_build_info` and the standard `process_*` metrics.

use std::fmt::Write as _;

use wire::event::{Kind, Reason};

use crate::aggregate::state::{Output, Snapshot};
use crate::batch::counters::{Counter, Counters};
use crate::batch::Source;
use crate::sink::nats::Figures;

/// Renders the Prometheus text exposition format (version 0.0.4). `inputs` are the inputs that
/// listen; an input that is off gets no series, unless it counted something.
pub fn prometheus(s: &Snapshot, inputs: &[Source]) -> String {
    let mut out = String::with_capacity(32 << 10);
    let shown = |source: Source| {
        inputs.contains(&source)
            || s.shards
                .iter()
                .any(|per_input| !per_input[source as usize].is_zero())
    };
    let inputs: Vec<Source> = Source::ALL.into_iter().filter(|i| shown(*i)).collect();
    // One row per shard and input, `extra` being further labels.
    let rows = |out: &mut String, name: &str, extra: &str, value: &dyn Fn(&Counters) -> u64| {
        for (shard, per_input) in s.shards.iter().enumerate() {
            for input in &inputs {
                let v = value(&per_input[*input as usize]);
                let input = input.as_str();
                let _ = writeln!(
                    out,
                    "{name}{{shard=\"{shard}\",input=\"{input}\"{extra}}} {v}"
                );
            }
        }
    };
    for c in Counter::ALL {
        let name = format!("ztel_{}_total", c.name());
        header(&mut out, &name, c.help(), "counter");
        rows(&mut out, &name, "", &|counts| counts.get(c));
    }
    let name = "ztel_records_total";
    header(
        &mut out,
        name,
        "Records made, by kind, repeats included (ztel_duplicates_total: those not written).",
        "counter",
    );
    for kind in Kind::ALL {
        let extra = format!(",kind=\"{}\"", kind.as_str());
        rows(&mut out, name, &extra, &|counts| counts.records_of(kind));
    }
    let name = "ztel_dead_letters_by_reason_total";
    header(&mut out, name, "Dead letters by reason.", "counter");
    for r in Reason::ALL {
        let extra = format!(",reason=\"{}\"", r.as_str());
        rows(&mut out, name, &extra, &|counts| counts.parse_errors(r));
    }
    let name = "ztel_connections_open";
    header(
        &mut out,
        name,
        "TCP, TLS and HTTP connections open now.",
        "gauge",
    );
    rows(&mut out, name, "", &|c| {
        c.get(Counter::ConnectionsOpened)
            .saturating_sub(c.get(Counter::ConnectionsClosed))
    });
    let name = "ztel_last_record_timestamp_seconds";
    header(
        &mut out,
        name,
        "When a record of the input last reached the outputs' writer (Unix time), written or \
         not yet (ztel_output_write_errors_total says when writes fail); absent before the first.",
        "gauge",
    );
    for input in Source::ALL {
        if let Some(at) = s.last_record[input as usize] {
            let _ = writeln!(out, "{name}{{input=\"{}\"}} {at:.3}", input.as_str());
        }
    }
    outputs(&mut out, s);
    for (name, help, value) in [
        ("ztel_devices", "Devices in the registry.", s.devices),
        (
            "ztel_registry_bytes",
            "Bytes of memory the registry holds, by its own count.",
            s.registry_bytes,
        ),
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
        header(&mut out, name, help, "gauge");
        let _ = writeln!(out, "{name} {value}");
    }
    let name = "ztel_devices_saved_total";
    header(
        &mut out,
        name,
        "Devices committed to devices.redb (a device saved again in a later commit counts again).",
        "counter",
    );
    let _ = writeln!(out, "{name} {}", s.devices_saved);
    let name = "ztel_devices_refused_total";
    header(
        &mut out,
        name,
        "Changes of devices left out of the registry, which held limits.max_devices (their records are written).",
        "counter",
    );
    let _ = writeln!(out, "{name} {}", s.devices_refused);
    if let Some(n) = &s.nats {
        nats(&mut out, n);
    }
    latency(&mut out, s);
    let name = "ztel_build_info";
    header(&mut out, name, "The running build: always 1.", "gauge");
    let _ = writeln!(out, "{name}{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    super::process::write(&mut out);
    out
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Write errors, rotations and spills per output.
fn outputs(out: &mut String, s: &Snapshot) {
    let o = &s.outputs;
    for (name, help, values) in [
        (
            "ztel_output_write_errors_total",
            "Writes (or flushes, or saves) to an output that failed; the data is retried.",
            &o.write_errors,
        ),
        (
            "ztel_output_rotations_total",
            "Output files rotated (output.rotate_bytes).",
            &o.rotations,
        ),
        (
            "ztel_output_spills_total",
            "Backlogs that could not be written at shutdown, spilled to data_dir.",
            &o.spills,
        ),
        (
            "ztel_output_spills_read_back_total",
            "Spills of earlier runs read back into their outputs at start.",
            &o.read_back,
        ),
        (
            "ztel_output_spills_waiting",
            "Spills of earlier runs left in data_dir at start (each start tries again).",
            &o.waiting,
        ),
    ] {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        header(out, name, help, kind);
        for output in Output::ALL {
            let _ = writeln!(
                out,
                "{name}{{output=\"{}\"}} {}",
                output.as_str(),
                values[output as usize]
            );
        }
    }
}

/// `[output.nats]`, only when it is on.
fn nats(out: &mut String, n: &Figures) {
    for (name, help, kind, value) in [
        (
            "ztel_nats_published_total",
            "Records and device events sent to JetStream (sent again after a failure: counted again).",
            "counter",
            n.published,
        ),
        (
            "ztel_nats_acknowledged_total",
            "Messages JetStream acknowledged: stored, or already held (of which ztel_nats_duplicates_total).",
            "counter",
            n.acknowledged,
        ),
        (
            "ztel_nats_duplicates_total",
            "Acknowledged messages JetStream already had (same Nats-Msg-Id within its window).",
            "counter",
            n.duplicates,
        ),
        (
            "ztel_nats_acks_pending",
            "Messages sent and not acknowledged yet.",
            "gauge",
            n.acks_pending,
        ),
        (
            "ztel_nats_publish_failures_total",
            "Publish rounds that failed or timed out; their messages are sent again.",
            "counter",
            n.failures,
        ),
        (
            "ztel_nats_unpublishable_total",
            "Records and device events never published: larger than the server or the stream \
             takes, or damaged in the spool (the records file keeps them); and device merges the \
             registry bucket refused.",
            "counter",
            n.unpublishable,
        ),
        (
            "ztel_nats_spool_bytes",
            "Bytes in the spool on disk not acknowledged by JetStream.",
            "gauge",
            n.spool_bytes,
        ),
        (
            "ztel_nats_spool_records",
            "Records and device events in the spool on disk not acknowledged by JetStream.",
            "gauge",
            n.spool_records,
        ),
        (
            "ztel_nats_spooled_bytes_total",
            "Bytes written to the spool on disk: while NATS was unreachable or failing, or held in memory when it stopped answering.",
            "counter",
            n.spooled_bytes,
        ),
        (
            "ztel_nats_connected",
            "1 while connected to NATS and publishing, else 0.",
            "gauge",
            u64::from(n.connected),
        ),
        (
            "ztel_nats_reconnects_total",
            "Connections to NATS made again after the first.",
            "counter",
            n.reconnects,
        ),
        (
            "ztel_nats_registry_merges_total",
            "Device changes merged into the registry bucket.",
            "counter",
            n.registry_merges,
        ),
        (
            "ztel_nats_registry_conflicts_total",
            "Registry merges that met another collector's write and were tried again.",
            "counter",
            n.registry_conflicts,
        ),
    ] {
        header(out, name, help, kind);
        let _ = writeln!(out, "{name} {value}");
    }
}

fn latency(out: &mut String, s: &Snapshot) {
    for l in s.latency.summaries() {
        let name = format!("ztel_latency_{}_seconds", l.name);
        let p = &l.since_start;
        let what = l.name.replace('_', " ");
        header(
            out,
            &name,
            &format!("Latency {what} since start."),
            "summary",
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
        header(
            out,
            &max,
            &format!("Largest latency {what} since start."),
            "gauge",
        );
        let _ = writeln!(out, "{max} {}", micros(p.max));
    }
}

/// SIGHUP reloads by result: a failed one (a certificate that does not load, a config that does
/// not parse) kept every setting as it was, which only the log said, and `systemctl reload`
/// reports success whatever happens.
pub fn reloads(
    out: &mut String,
    counts: &[std::sync::atomic::AtomicU64; 2],
    last_failed: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    header(
        out,
        "ztel_reload_failed",
        "1 while the last SIGHUP reload failed (its changes are not in force), else 0.",
        "gauge",
    );
    let failed = u8::from(last_failed.load(Ordering::Relaxed));
    let _ = writeln!(out, "ztel_reload_failed {failed}");
    let name = "ztel_reloads_total";
    header(
        out,
        name,
        "SIGHUP reloads by result; a failed one kept the settings as they were.",
        "counter",
    );
    for (result, count) in ["ok", "failed"].iter().zip(counts) {
        let _ = writeln!(
            out,
            "{name}{{result=\"{result}\"}} {}",
            count.load(Ordering::Relaxed)
        );
    }
}

/// When the TLS and HTTPS inputs' server certificates expire, and the last CA of input.tls's
/// client CA file, for an alert ahead of it: an expired one fails every handshake, and a start
/// or reload then refuses it.
pub fn cert_expiry(out: &mut String, at: &[std::sync::atomic::AtomicI64; 3]) {
    use std::sync::atomic::Ordering;
    let name = "ztel_tls_certificate_expiry_timestamp_seconds";
    header(
        out,
        name,
        "When the input's server certificate expires, or for tls_client_ca the last CA of \
         input.tls.client_ca (Unix seconds).",
        "gauge",
    );
    for (input, at) in ["tls", "http", "tls_client_ca"].iter().zip(at) {
        let at = at.load(Ordering::Relaxed);
        if at != 0 {
            let _ = writeln!(out, "{name}{{input=\"{input}\"}} {at}");
        }
    }
}

fn micros(v: u64) -> f64 {
    v as f64 / 1e6
}

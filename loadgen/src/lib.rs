//! loadgen: replays Zscaler NSS and LSS traffic against a collector (DESIGN §7).
//!
//! `args` reads the command line and `plan` checks it, `source` builds every event into memory,
//! `conn` opens the connections (`http` builds their requests and reads their answers,
//! `identity` presents the client certificate of mutual TLS), `send` paces the writes, `report`
//! adds up and prints, `admin` asks the collector what it received. [`run`] takes those steps in
//! order; `main.rs` reads the flags and turns a [`Failure`] into the exit status.

mod admin;
pub mod args;
mod conn;
mod exposition;
mod header;
mod http;
mod identity;
mod plan;
mod report;
mod send;
mod source;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::admin::Admin;
use crate::args::Args;
use crate::plan::Plan;
use crate::send::{Progress, Schedule};

/// Why a run stopped: the exit status depends on whether the call itself was wrong.
pub enum Failure {
    /// Flags, target, files: exit status 2.
    Usage(anyhow::Error),
    /// A connection that could not be made: exit status 1.
    Run(anyhow::Error),
}

/// One run, as the flags in `args` ask: the exit status of a run that went through (what it
/// found decides it), or why it could not.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let plan = Plan::new(args).map_err(Failure::Usage)?;
    let transport = conn::prepare(&plan).map_err(Failure::Usage)?;
    let admin = plan
        .admin
        .as_deref()
        .map(Admin::new)
        .transpose()
        .map_err(Failure::Usage)?;

    let generating = Instant::now();
    let streams = source::build(&plan).map_err(Failure::Usage)?;
    if !plan.quiet {
        let events: usize = streams.iter().map(|s| s.len()).sum();
        let bytes: usize = streams.iter().map(|s| s.bytes.len()).sum();
        eprintln!(
            "loadgen: {events} events to send ({:.1} MB) ready in {:.2} s",
            bytes as f64 / 1e6,
            generating.elapsed().as_secs_f64()
        );
    }

    // The collector's counters before the run, so that traffic from earlier runs is not
    // counted; an unreachable admin endpoint costs the admin figures only.
    let before = admin.as_ref().and_then(|a| match a.before() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!(
                "loadgen: cannot read {}: {e:#}; received, lost and ztel latency are n/a",
                a.url()
            );
            None
        }
    });

    let (totals, started) = match conn::connect(&plan, &transport) {
        Ok(conns) => send_all(&plan, conns, streams)?,
        // Nothing was sent: said as every run's outcome is, result line included, for the
        // scripts that read it. The connections are all opened before any sends, so the one
        // that failed is the one counted.
        Err(e) => {
            let mut totals = report::Totals::merge(Vec::new(), plan.rate).map_err(Failure::Run)?;
            totals.failures.push(format!("{e:#}"));
            (totals, SystemTime::now())
        }
    };
    for failure in &totals.failures {
        eprintln!("loadgen: {failure}");
    }

    let figures = match (&admin, &before) {
        (Some(a), Some(b)) => Some(a.settle(b, totals.events)),
        (Some(_), None) => Some(admin::Figures::default()),
        _ => None,
    };
    for note in figures.iter().flat_map(|f| &f.notes) {
        eprintln!("loadgen: {note}");
    }
    for fate in figures.iter().flat_map(|f| report::fates(f, totals.events)) {
        eprintln!("loadgen: {fate}");
    }
    print!(
        "{}",
        report::render(
            &plan.describe(),
            &plan.result_params(unix_seconds(started)),
            &totals,
            figures.as_ref()
        )
    );

    let mut failed = !totals.failures.is_empty();
    if let Some(path) = &plan.hist {
        if let Err(e) = report::write_hlog(path, &totals, started) {
            eprintln!("loadgen: --hist: {e:#}");
            failed = true;
        }
    }
    match figures.as_ref().map(|f| (f.lost, f)) {
        // A collector whose outputs are stalled (a full disk) has not read them yet: they wait
        // in the connections' buffers, which is no loss (yet), and the run has not passed.
        Some((Some(lost), _)) if lost > 0 && admin.as_ref().is_some_and(stalled) => {
            let why = admin
                .as_ref()
                .and_then(Admin::unhealthy)
                .unwrap_or_default();
            eprintln!("loadgen: the collector has not read {lost} events: /healthz says \"{why}\"");
            failed = true;
        }
        Some((Some(lost), f)) if lost > 0 => {
            eprintln!(
                "loadgen: the collector lost {lost} events{}",
                report::drops(f)
            );
            failed = true;
        }
        // `--admin` asks whether anything was lost: a run that cannot tell has not passed.
        Some((None, _)) => {
            eprintln!("loadgen: --admin was given, but whether events were lost is unknown");
            failed = true;
        }
        _ => {}
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Sends the streams over the connections, once they are all open, and adds up what each sent;
/// with when the sending started.
fn send_all(
    plan: &Plan,
    conns: Vec<conn::Conn>,
    streams: Vec<source::Stream>,
) -> Result<(report::Totals, SystemTime), Failure> {
    // A moment for the threads to start, so that the first events are not late because of it.
    let lead = Duration::from_millis(10);
    let (start, started) = (Instant::now() + lead, SystemTime::now() + lead);
    let progress = Arc::new(Progress::default());
    let schedule = Schedule {
        rate: plan.rate,
        total: plan.events(),
        deadline: plan.deadline(),
        connections: plan.connections,
    };
    let keep_intervals = plan.hist.is_some();
    let handles = send::spawn(conns, streams, schedule, keep_intervals, &progress, start)
        .map_err(Failure::Run)?;
    report::watch(&handles, &progress, start, plan.quiet);
    let mut outcomes = Vec::with_capacity(handles.len());
    for h in handles {
        let outcome = h
            .join()
            .map_err(|_| Failure::Run(anyhow::anyhow!("a sender thread panicked")))?;
        outcomes.push(outcome);
    }
    let totals = report::Totals::merge(outcomes, plan.rate).map_err(Failure::Run)?;
    Ok((totals, started))
}

/// Seconds since the Unix epoch (0 for a clock set before it).
fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether the collector says its outputs are stalled.
fn stalled(admin: &Admin) -> bool {
    admin
        .unhealthy()
        .is_some_and(|why| why.starts_with("stalled"))
}

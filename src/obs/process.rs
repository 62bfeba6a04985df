//! The standard `process_*` metrics, read as every exporter names them: CPU, memory,
//! descriptors, start time, threads. Read here rather than by the prometheus crate's collector,
//! which kept CPU in whole seconds (0.47 s said 0: a rate of it was 0 or a staircase) and said
//! 0 descriptors allowed when it could not open `/proc/self/limits`, as when the process has
//! run out of them, the moment an alert on them matters.

use std::fmt::Write;

/// Appends the process metrics to `out`. One that cannot be read (a `/proc` file that cannot
/// be opened, out of descriptors) is left out, not given as 0.
pub fn write(out: &mut String) {
    let mut metric = |name: &str, help: &str, kind: &str, value: Option<f64>| {
        if let Some(value) = value {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    };
    let stat = Stat::read();
    metric(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        "counter",
        cpu_seconds(),
    );
    metric(
        "process_open_fds",
        "Number of open file descriptors.",
        "gauge",
        std::fs::read_dir("/proc/self/fd")
            .ok()
            // The directory's own descriptor, open while it is read, is not counted.
            .map(|fds| fds.count().saturating_sub(1) as f64),
    );
    metric(
        "process_max_fds",
        "Maximum number of open file descriptors.",
        "gauge",
        crate::rlimit::get(libc::RLIMIT_NOFILE).map(|l| l.rlim_cur as f64),
    );
    metric(
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        "gauge",
        stat.as_ref().map(|s| s.vsize as f64),
    );
    metric(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        "gauge",
        stat.as_ref().map(|s| (s.rss_pages * page_size()) as f64),
    );
    metric(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        "gauge",
        stat.as_ref().and_then(Stat::start_time),
    );
    metric(
        "process_threads",
        "Number of OS threads in the process.",
        "gauge",
        stat.as_ref().map(|s| s.threads as f64),
    );
}

/// User and system CPU time, to the microsecond.
fn cpu_seconds() -> Option<f64> {
    // SAFETY: getrusage writes the struct it is given; zeroed is a valid rusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no side effect.
    u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// What `/proc/self/stat` says of the process.
struct Stat {
    threads: u64,
    /// Clock ticks after boot.
    start_ticks: u64,
    vsize: u64,
    rss_pages: u64,
}

impl Stat {
    fn read() -> Option<Stat> {
        Stat::parse(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// Fields after the command's name, which may hold spaces and parentheses: the text after
    /// its last `)` is state (field 3) onward.
    fn parse(text: &str) -> Option<Stat> {
        let after = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = after.split_ascii_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Stat {
            threads: field(20)?,
            start_ticks: field(22)?,
            vsize: field(23)?,
            rss_pages: field(24)?,
        })
    }

    /// The start in seconds since the epoch: boot time (`/proc/stat`'s `btime`) and the
    /// ticks after it.
    fn start_time(&self) -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let boot: u64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        // SAFETY: sysconf has no side effect.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (ticks > 0).then(|| boot as f64 + self.start_ticks as f64 / ticks as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, name: &str) -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' '))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        line[name.len() + 1..].parse().unwrap()
    }

    /// From the metrics audit: 0.47 s of CPU said 0, and 1.78 s said 1.
    #[test]
    fn cpu_time_has_its_fraction_and_the_limits_are_the_processs() {
        let began = std::time::Instant::now();
        let mut spin = 0u64;
        while began.elapsed() < std::time::Duration::from_millis(30) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let mut text = String::new();
        write(&mut text);
        let cpu = sample(&text, "process_cpu_seconds_total");
        // To the microsecond: 30 ms of spinning are there (in whole seconds they were 0).
        assert!(cpu > 0.02, "{cpu}");
        let limit = crate::rlimit::get(libc::RLIMIT_NOFILE).unwrap().rlim_cur as f64;
        assert_eq!(sample(&text, "process_max_fds"), limit);
        let open = sample(&text, "process_open_fds");
        assert!(open >= 3.0 && open < limit, "{open}");
        assert!(sample(&text, "process_resident_memory_bytes") > 1e6);
        assert!(sample(&text, "process_threads") >= 1.0);
        let now = jiff::Timestamp::now().as_second() as f64;
        let start = sample(&text, "process_start_time_seconds");
        // Boot time is whole seconds, and the ticks after it hundredths: within a second of now.
        assert!(
            start <= now + 1.0 && start > now - 86_400.0,
            "{start} {now}"
        );
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_is_passed_over() {
        let mut text = String::from("42 (a) b (c) S");
        for n in 4..=24 {
            text.push_str(&format!(" {n}"));
        }
        let stat = Stat::parse(&text).unwrap();
        assert_eq!(
            (stat.threads, stat.start_ticks, stat.vsize, stat.rss_pages),
            (20, 22, 23, 24)
        );
        assert!(Stat::parse("42 (a) S 1 2").is_none());
    }
}

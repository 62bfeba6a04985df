//! Realistic synthetic NSS and LSS records, for benchmarks, load generation, fuzz seeds and tests
//! (feature `synth`). Deterministic for a seed, so that a run can be repeated byte for byte.

mod activity;
mod cef;
mod churn;
mod csv;
mod dns;
mod firewall;
mod json;
mod kv;
mod leef;
mod web;

pub use activity::ActivityGenerator;
pub use dns::DnsGenerator;
pub use firewall::FirewallGenerator;
pub use web::{Dialect, WebGenerator};

use std::fmt::{self, Write as _};

use churn::Churn;

/// A small, fast PRNG (xorshift64*): the generator must outrun the collector.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// What varies between records: how many devices, users and servers a run spreads over.
#[derive(Debug, Clone, Copy)]
pub struct Cardinality {
    pub devices: u64,
    pub users: u64,
    pub servers: u64,
}

impl Default for Cardinality {
    fn default() -> Self {
        Cardinality {
            devices: 1000,
            users: 800,
            servers: 5000,
        }
    }
}

/// What every generator keeps from record to record: its random numbers, the run's cardinality,
/// how feed time moves and who each device is.
#[derive(Debug)]
struct Run {
    rng: Rng,
    cardinality: Cardinality,
    clock: Clock,
    churn: Churn,
}

impl Run {
    /// A run with its own random numbers (`seed`, salted by the caller), feed time stepping by
    /// chance and no churn until the options say otherwise.
    fn new(seed: u64, cardinality: Cardinality) -> Run {
        Run {
            rng: Rng::new(seed),
            cardinality,
            clock: Clock::Jitter,
            churn: Churn::default(),
        }
    }
}

/// Gives a generator the options and the block writer all generators have alike, as inherent
/// methods so that callers need no trait in scope. The generator keeps its [`Run`] in a field
/// `run` and has `write`, which appends one record and its LF; `$line_bytes` is about a record's
/// length.
macro_rules! options {
    ($generator:ident, $line_bytes:literal) => {
        impl $generator {
            /// Feed time advances as if `records_per_second` records were written each second,
            /// instead of by a random step per record (about half a second for NSS, 1.5 ms for
            /// LSS). A load generator wants this: at its real rate the timestamps then move as a
            /// live feed's do, and a collector refreshes its device state as often as in
            /// production, not on nearly every record.
            pub fn at_rate(mut self, records_per_second: u64) -> Self {
                self.run.clock = $crate::synth::Clock::at(records_per_second);
                self
            }

            /// Every `n` records of a device, it takes a new user or a new IP, in turn (loadgen's
            /// `--churn`); `n = 0`, the default, for none: each device keeps one IP and its owner.
            pub fn with_churn(mut self, n: u64) -> Self {
                self.run.churn = $crate::synth::Churn::every(n);
                self
            }

            /// `n` records as one block of LF-terminated lines.
            pub fn lines(&mut self, n: usize) -> String {
                let mut out = String::with_capacity(n * $line_bytes);
                for _ in 0..n {
                    self.write(&mut out);
                }
                out
            }
        }
    };
}
use options;

/// How the feed time of generated records moves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clock {
    /// A random step per record.
    Jitter,
    /// `per_second` records share each second; `written` counts them.
    Rate { per_second: u64, written: u64 },
}

impl Clock {
    /// `per_second` records to a second of feed time.
    fn at(per_second: u64) -> Clock {
        Clock::Rate {
            per_second: per_second.max(1),
            written: 0,
        }
    }

    /// The feed time of the next record, the last one's being `last`, counted in `1/units` of a
    /// second (1 for NSS's seconds, 1000 for LSS's milliseconds): a random step below `jitter`,
    /// or where the rate puts it from [`NSS_EPOCH`], so that every log type of a run shares one
    /// timeline.
    fn next(&mut self, last: u64, units: u64, jitter: u64, rng: &mut Rng) -> u64 {
        match self {
            Clock::Jitter => last + rng.below(jitter),
            Clock::Rate {
                per_second,
                written,
            } => {
                *written += 1;
                NSS_EPOCH * units + *written * units / *per_second
            }
        }
    }
}

/// The feed time (epoch seconds) NSS records start at.
const NSS_EPOCH: u64 = 1_763_800_000;

/// What the NSS generators (web, firewall, DNS) keep besides their [`Run`]: the last record's id
/// and feed time.
#[derive(Debug)]
struct Nss {
    record_id: u64,
    epoch: u64,
}

impl Nss {
    /// Record ids from `base` on, a billion apart between seeds.
    fn new(base: u64, seed: u64) -> Nss {
        Nss {
            record_id: base.wrapping_add(seed.wrapping_mul(1_000_000_000)),
            epoch: NSS_EPOCH,
        }
    }

    /// Starts the next record: its id, its feed time (about half a second after the last one's
    /// unless there is a rate), who makes it and the server it goes to, drawn in that order by
    /// every NSS log type, so that they all name the same machines, people and servers. Hands
    /// back the random numbers for the rest of the record.
    fn next<'a>(&mut self, run: &'a mut Run) -> (Head, &'a mut Rng) {
        self.record_id = self.record_id.wrapping_add(1);
        let r = &mut run.rng;
        self.epoch = run.clock.next(self.epoch, 1, 2, r);
        let who = Who::pick(r, &run.cardinality, &mut run.churn);
        let server = r.below(run.cardinality.servers);
        let head = Head {
            id: self.record_id,
            secs: self.epoch,
            who,
            server,
        };
        (head, r)
    }
}

/// What every NSS record starts from (see [`Nss::next`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub id: u64,
    /// Feed time, seconds since the epoch.
    pub secs: u64,
    pub who: Who,
    /// The server's number, below the run's cardinality.
    pub server: u64,
}

impl Head {
    /// Opens a record of a log type of NSS for Firewall (firewall, DNS) in ztel's JSON feed
    /// format: the envelope of `sourcetype`, then when, which record, and who from where, in the
    /// order those feed formats share.
    fn write_json_start(&self, sourcetype: &str, out: &mut String) {
        let Head { id, secs, who, .. } = *self;
        let (location, _) = who.site();
        let _ = write!(
            out,
            r#"{{"sourcetype":"{sourcetype}","event":{{"epochtime":"{secs}","recordid":"{id}","elogin":"{login}","edepartment":"{department}","elocation":"{location}","devicehostname":"{host}","deviceowner":"{owner}","#,
            login = User::Login(who.user),
            department = who.department(),
            host = Hostname(who.device),
            owner = User::Owner(who.owner),
        );
    }
}

/// Who makes an NSS record: the device, its owner, the user signed in and the device's address,
/// as every NSS log type picks them, so that they all name the same machines and people. A
/// laptop has one owner and one address unless there is churn ([`churn`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Who {
    pub device: u64,
    pub owner: u64,
    pub user: u64,
    /// The [`ClientIp`] number of its address.
    pub ip: u64,
}

impl Who {
    fn pick(rng: &mut Rng, cardinality: &Cardinality, churn: &mut Churn) -> Who {
        let device = rng.below(cardinality.devices);
        let id = churn.next(device, cardinality);
        Who {
            device,
            owner: id.owner,
            user: id.user,
            ip: id.ip,
        }
    }

    /// Where the device works from (%HH-encoded, as `elocation`) and how its traffic reaches the
    /// Zscaler cloud (`ttype`).
    fn site(&self) -> (&'static str, &'static str) {
        // Half the devices are on the road, behind Client Connector.
        match self.device % 4 {
            0 => ("HQ%20Paris", "GRE"),
            3 => ("Branch%20Lyon", "IPSec"),
            _ => ("Road%20Warrior", "ZscalerClientConnector"),
        }
    }

    /// The owner's department, %HH-encoded (as `edepartment`).
    fn department(&self) -> &'static str {
        DEPARTMENTS[(self.owner % DEPARTMENTS.len() as u64) as usize]
    }
}

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Finance",
    "Human%20Resources",
    "IT%20Operations",
];

/// A user as records name them: as a device's owner (`deviceowner`, `user00042`) or signed in
/// (`elogin`, LSS's `Username`: `user00042@corp.example.com`).
#[derive(Clone, Copy)]
pub(crate) enum User {
    Owner(u64),
    Login(u64),
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            User::Owner(n) => write!(f, "user{n:05}"),
            User::Login(n) => write!(f, "user{n:05}@corp.example.com"),
        }
    }
}

/// Device `n`'s hostname (`LAPTOP-00002A`).
#[derive(Clone, Copy)]
pub(crate) struct Hostname(pub u64);

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LAPTOP-{:06X}", self.0)
    }
}

/// Device `n`'s private IP.
#[derive(Clone, Copy)]
pub(crate) struct ClientIp(pub u64);

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        write!(
            f,
            "10.{}.{}.{}",
            20 + n / 65536 % 200,
            n / 256 % 256,
            n % 256
        )
    }
}

/// The public address device `n`'s traffic leaves from (the NAT or tunnel source).
#[derive(Clone, Copy)]
pub(crate) struct PublicIp(pub u64);

impl fmt::Display for PublicIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "198.51.100.{}", self.0 % 250)
    }
}

/// Server `n`'s public IP.
#[derive(Clone, Copy)]
pub(crate) struct ServerIp(pub u64);

impl fmt::Display for ServerIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        write!(
            f,
            "{}.{}.{}.10",
            13 + n / 65536 % 200,
            n / 256 % 256,
            n % 256
        )
    }
}

/// A time's civil parts in UTC.
struct Civil {
    y: i64,
    m: u32,
    d: u32,
    hh: u64,
    mm: u64,
    ss: u64,
    /// The weekday's and the month's names (`Fri`, `May`).
    weekday: &'static str,
    mon: &'static str,
}

impl Civil {
    /// `secs` since the epoch.
    fn of(secs: u64) -> Civil {
        let day = secs / 86_400;
        let (y, m, d) = civil_from_days(day as i64);
        Civil {
            y,
            m,
            d,
            hh: secs / 3600 % 24,
            mm: secs / 60 % 60,
            ss: secs % 60,
            weekday: DAYS[(day % 7) as usize],
            mon: MONTHS[(m - 1) as usize],
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// From Thursday, 1970-01-01's.
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// A feed time (seconds since the epoch) in one of the forms records write it in, in UTC.
#[derive(Clone, Copy)]
pub(crate) enum Stamp {
    /// `Fri May 31 17:35:42 2019`, C's ctime (NSS's default `time`, LSS's LogTimestamp).
    Ctime(u64),
    /// `May  1 17:35:42`, an RFC 3164 header's.
    Syslog(u64),
    /// `May 01 17:35:42`, the header Zscaler's CEF and LEEF presets write.
    SyslogZeroDay(u64),
    /// `May 01 2019 17:35:42` (CEF's `rt`, LEEF's `devTime`).
    MonthDayYear(u64),
    /// `2019-05-01 17:35:42` (the Splunk templates' time).
    DateTime(u64),
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Stamp::Ctime(secs)
        | Stamp::Syslog(secs)
        | Stamp::SyslogZeroDay(secs)
        | Stamp::MonthDayYear(secs)
        | Stamp::DateTime(secs)) = *self;
        let Civil {
            y,
            m,
            d,
            hh,
            mm,
            ss,
            weekday,
            mon,
        } = Civil::of(secs);
        match self {
            Stamp::Ctime(_) => write!(f, "{weekday} {mon} {d:02} {hh:02}:{mm:02}:{ss:02} {y}"),
            Stamp::Syslog(_) => write!(f, "{mon} {d:>2} {hh:02}:{mm:02}:{ss:02}"),
            Stamp::SyslogZeroDay(_) => write!(f, "{mon} {d:02} {hh:02}:{mm:02}:{ss:02}"),
            Stamp::MonthDayYear(_) => write!(f, "{mon} {d:02} {y} {hh:02}:{mm:02}:{ss:02}"),
            Stamp::DateTime(_) => write!(f, "{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}"),
        }
    }
}

/// `2019-05-30T08:20:42.230Z` (LSS's Timestamp… fields).
pub(crate) fn write_iso(out: &mut String, ms: u64) {
    let Civil {
        y,
        m,
        d,
        hh,
        mm,
        ss,
        ..
    } = Civil::of(ms / 1000);
    let _ = write!(
        out,
        "{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:03}Z",
        ms % 1000
    );
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn at_rate_moves_feed_time_with_the_rate() {
        let epoch = |line: &str| -> u64 {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["event"]["epochtime"].as_str().unwrap().parse().unwrap()
        };
        let text = WebGenerator::new(1, Dialect::Ztel, Cardinality::default())
            .at_rate(1000)
            .lines(5000);
        let times: Vec<u64> = text.lines().map(epoch).collect();
        assert_eq!(times[times.len() - 1] - times[0], 5);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        let text = ActivityGenerator::new(1, Cardinality::default())
            .at_rate(1000)
            .lines(3000);
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["LogTimestamp"], "Sat Nov 22 08:26:43 2025");
    }

    #[test]
    fn iso_and_ctime() {
        let mut s = String::new();
        write_iso(&mut s, 1_559_204_442_230);
        let _ = write!(s, " {}", Stamp::Ctime(1_559_324_142));
        assert_eq!(s, "2019-05-30T08:20:42.230Z Fri May 31 17:35:42 2019");
    }
}

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
mod values;
mod web;

pub use activity::ActivityGenerator;
pub use dns::DnsGenerator;
pub use firewall::FirewallGenerator;
pub use web::{Dialect, WebGenerator};

use std::fmt::Write as _;

use churn::Churn;
use values::{write_iso, Addr, Hostname, Stamp, User};

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
            login = User::Login(who.user).encoded(),
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
    /// The [`Addr::Client`] number of its address.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

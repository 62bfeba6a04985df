//! Realistic synthetic ZIA web records, for benchmarks, load generation and tests. Deterministic
//! for a seed, so that a run can be repeated byte for byte.

use std::fmt::Write as _;

/// The feed templates the generator can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// ztel's own feed format (`ztel feed-format zia-web`).
    Ztel,
    /// Elastic's NSS template: the default field set wrapped in the envelope, all strings.
    Elastic,
    /// The Splunk / Sekoia / Datadog template behind an RFC 3164 header.
    Sekoia,
}

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

const SITES: &[&str] = &[
    "www.office.com",
    "outlook.office365.com",
    "login.microsoftonline.com",
    "www.google.com",
    "mail.google.com",
    "github.com",
    "api.github.com",
    "www.linkedin.com",
    "update.googleapis.com",
    "slack.com",
    "files.slack.com",
    "www.salesforce.com",
    "cdn.jsdelivr.net",
    "www.youtube.com",
    "s3.amazonaws.com",
];
const PATHS: &[&str] = &[
    "/owa/service.svc?action=GetAccessTokenforResource&UA=0&app=Mail&n=117",
    "/common/oauth2/v2.0/authorize?client_id=4765445b-32c6-49b0-83e6-1d93765276ca&response_type=code%20id_token&scope=openid%20profile",
    "/search?q=zscaler+nss+feed+output+format&oq=zscaler&aqs=chrome.0.69i59j0i512l9.3184j0j7&sourceid=chrome&ie=UTF-8",
    "/mail/u/0/?tab=rm&ogbl#inbox/FMfcgzGwHLfQwMbqmNKmvzJrHDrWzHbT",
    "/repos/rust-lang/rust/pulls?state=open&per_page=100&page=3",
    "/api/conversations.history?channel=C024BE91L&limit=200&inclusive=true",
    "/npm/bootstrap@5.3.2/dist/js/bootstrap.bundle.min.js",
    "/watch?v=dQw4w9WgXcQ&list=PL9tY0BWXOZFuFEG_GtOBZ8-8wbkH-NVAr&index=4",
    "/service/update2/json?cup2key=13:2836187734&cup2hreq=4d1c0ab2c2e1d3e0e6c1f3c5b6a7d8e9",
    "/",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.72",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    "Windows Microsoft Windows 10 Pro ZTunnel/1.0",
    "Slack/4.35.131 (Windows NT 10.0.19045; x64) Electron/26.2.4",
];
const CATEGORIES: &[&str] = &[
    "Web Search",
    "Corporate Marketing",
    "Professional Services",
    "Web Mail",
    "Online Chat",
    "Streaming Media",
    "Internet Services",
];
const PROTOS: &[&str] = &["HTTPS", "HTTPS", "HTTPS", "HTTP", "SSL", "HTTP_PROXY"];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "CONNECT", "PUT"];

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

/// Writes NSS web records, one per call, into a caller's buffer.
pub struct WebGenerator {
    rng: Rng,
    dialect: Dialect,
    cardinality: Cardinality,
    record_id: u64,
    epoch: u64,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

impl WebGenerator {
    pub fn new(seed: u64, dialect: Dialect, cardinality: Cardinality) -> Self {
        WebGenerator {
            rng: Rng::new(seed),
            dialect,
            cardinality,
            record_id: 7_300_000_000_000_000_000 + seed * 1_000_000_000,
            epoch: 1_763_800_000,
        }
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        let r = &mut self.rng;
        self.record_id += 1;
        self.epoch += r.below(2);
        let device = r.below(self.cardinality.devices);
        let user = r.below(self.cardinality.users);
        let server = r.below(self.cardinality.servers);
        let site = r.pick(SITES);
        let path = r.pick(PATHS);
        let agent = r.pick(AGENTS);
        let category = r.pick(CATEGORIES);
        let proto = r.pick(PROTOS);
        let method = if proto == "HTTP_PROXY" {
            "CONNECT"
        } else {
            r.pick(METHODS)
        };
        let blocked = r.below(20) == 0;
        let (action, status) = if blocked {
            ("Blocked", 403)
        } else {
            ("Allowed", 200)
        };
        let reqsize = 200 + r.below(4000);
        let respsize = 65 + r.below(200_000);
        let cip = format_args!(
            "10.{}.{}.{}",
            20 + device / 65536 % 200,
            device / 256 % 256,
            device % 256
        );
        let sip = format_args!(
            "{}.{}.{}.{}",
            13 + server / 65536 % 200,
            server / 256 % 256,
            server % 256,
            10
        );
        let host = format_args!("LAPTOP-{device:06X}");
        let login = format_args!("user{user:05}@corp.example.com");
        let (secs, day) = (self.epoch, self.epoch / 86_400);
        let (y, m, d) = civil_from_days(day as i64);
        let (hh, mm, ss) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
        let weekday = DAYS[(day % 7) as usize];
        let mon = MONTHS[(m - 1) as usize];
        let eurl_agent = agent.replace(' ', "%20");
        let _ = match self.dialect {
            Dialect::Ztel => writeln!(
                out,
                r#"{{"sourcetype":"zscalernss-web","event":{{"epochtime":"{secs}","recordid":"{id}","elogin":"{login}","proto":"{proto}","eurl":"{site}{path}","ehost":"{site}","action":"{action}","reqmethod":"{method}","respcode":"{status}","reqsize":"{reqsize}","respsize":"{respsize}","cip":"{cip}","cintip":"198.51.100.{c}","sip":"{sip}","urlcat":"{category}","deviceowner":"user{user:05}","devicehostname":"{host}","eua":"{eurl_agent}","ereferer":"https://{site}{path}","elocation":"HQ%20Paris"}}}}"#,
                id = self.record_id,
                c = device % 250,
            ),
            Dialect::Elastic => writeln!(
                out,
                r#"{{ "sourcetype" : "zscalernss-web", "event" :{{"time":"{weekday} {mon} {d:02} {hh:02}:{mm:02}:{ss:02} {y}","login":"{login}","proto":"{proto}","eurl":"{site}{path}","action":"{action}","appname":"General Browsing","appclass":"General Browsing","reqsize":"{reqsize}","respsize":"{respsize}","stime":"0","ctime":"0","urlclass":"Business Use","urlsupercat":"Information Technology","urlcat":"{category}","malwarecat":"None","threatname":"None","riskscore":"0","dlpeng":"None","dlpdict":"None","location":"HQ Paris","dept":"Engineering","cip":"{cip}","sip":"{sip}","reqmethod":"{method}","respcode":"{status}","ua":"{agent}","ereferer":"None","ruletype":"None","rulelabel":"None","contenttype":"text/html","unscannabletype":"None","deviceowner":"user{user:05}","devicehostname":"{host}"}}}}"#,
            ),
            Dialect::Sekoia => writeln!(
                out,
                r#"{mon} {d:>2} {hh:02}:{mm:02}:{ss:02} zscaler-nss {{ "sourcetype" : "zscalernss-web", "event" : {{"datetime":"{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}","reason":"{action}","event_id":"{id}","protocol":"{proto}","action":"{action}","transactionsize":"{total}","responsesize":"{respsize}","requestsize":"{reqsize}","urlcategory":"{category}","serverip":"{sip}","requestmethod":"{method}","refererURL":"None","useragent":"{eurl_agent}","product":"NSS","location":"HQ%20Paris","ClientIP":"{cip}","status":"{status}","user":"{login}","url":"{site}{path}","vendor":"Zscaler","hostname":"{site}","clientpublicIP":"198.51.100.{c}","threatcategory":"None","threatname":"None","filetype":"None","appname":"General Browsing","pagerisk":"0","department":"Engineering","urlsupercategory":"Information Technology","appclass":"General Browsing","dlpengine":"None","urlclass":"Business Use","threatclass":"None","dlpdictionaries":"None","fileclass":"None","bwthrottle":"NO","contenttype":"text/html","unscannabletype":"None","deviceowner":"user{user:05}","devicehostname":"{host}","keyprotectiontype":"N/A"}}}}"#,
                id = self.record_id,
                total = reqsize + respsize,
                c = device % 250,
            ),
        };
    }

    /// `n` records as one block of LF-terminated lines.
    pub fn lines(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n * 1100);
        for _ in 0..n {
            self.write(&mut out);
        }
        out
    }
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
    fn lines_are_about_a_kilobyte() {
        for dialect in [Dialect::Ztel, Dialect::Elastic, Dialect::Sekoia] {
            let text = WebGenerator::new(1, dialect, Cardinality::default()).lines(1000);
            let avg = text.len() / 1000;
            assert!(
                (700..1500).contains(&avg),
                "{dialect:?}: {avg} bytes per line"
            );
            assert_eq!(text.lines().count(), 1000);
        }
    }
}

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

/// How the feed time of generated records moves.
#[derive(Debug, Clone, Copy)]
enum Clock {
    /// A random step per record (about half a second for web, 1.5 ms for user activity).
    Jitter,
    /// `per_second` records share each second; `written` counts them.
    Rate { per_second: u64, written: u64 },
}

/// Writes NSS web records, one per call, into a caller's buffer.
pub struct WebGenerator {
    rng: Rng,
    dialect: Dialect,
    cardinality: Cardinality,
    record_id: u64,
    epoch: u64,
    clock: Clock,
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
            record_id: 7_300_000_000_000_000_000u64.wrapping_add(seed.wrapping_mul(1_000_000_000)),
            epoch: 1_763_800_000,
            clock: Clock::Jitter,
        }
    }

    /// Feed time advances as if `records_per_second` records were written each second, instead
    /// of about half a second per record. A load generator wants this: at its real rate the
    /// timestamps then move as a live feed's do, and a collector refreshes its device state as
    /// often as in production, not on nearly every record.
    pub fn at_rate(mut self, records_per_second: u64) -> Self {
        self.clock = Clock::Rate {
            per_second: records_per_second.max(1),
            written: 0,
        };
        self
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        let r = &mut self.rng;
        self.record_id = self.record_id.wrapping_add(1);
        self.epoch = match &mut self.clock {
            Clock::Jitter => self.epoch + r.below(2),
            Clock::Rate {
                per_second,
                written,
            } => {
                *written += 1;
                1_763_800_000 + *written / *per_second
            }
        };
        let device = r.below(self.cardinality.devices);
        // A laptop has one owner, who makes most of its traffic; now and then someone else signs
        // in on it.
        let owner = device % self.cardinality.users.max(1);
        let user = if r.below(10) == 0 {
            r.below(self.cardinality.users)
        } else {
            owner
        };
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
                r#"{{"sourcetype":"zscalernss-web","event":{{"epochtime":"{secs}","recordid":"{id}","elogin":"{login}","proto":"{proto}","eurl":"{site}{path}","ehost":"{site}","action":"{action}","reqmethod":"{method}","respcode":"{status}","reqsize":"{reqsize}","respsize":"{respsize}","cip":"{cip}","cintip":"198.51.100.{c}","sip":"{sip}","urlcat":"{category}","deviceowner":"user{owner:05}","devicehostname":"{host}","eua":"{eurl_agent}","ereferer":"https://{site}{path}","elocation":"HQ%20Paris"}}}}"#,
                id = self.record_id,
                c = device % 250,
            ),
            Dialect::Elastic => writeln!(
                out,
                r#"{{ "sourcetype" : "zscalernss-web", "event" :{{"time":"{weekday} {mon} {d:02} {hh:02}:{mm:02}:{ss:02} {y}","login":"{login}","proto":"{proto}","eurl":"{site}{path}","action":"{action}","appname":"General Browsing","appclass":"General Browsing","reqsize":"{reqsize}","respsize":"{respsize}","stime":"0","ctime":"0","urlclass":"Business Use","urlsupercat":"Information Technology","urlcat":"{category}","malwarecat":"None","threatname":"None","riskscore":"0","dlpeng":"None","dlpdict":"None","location":"HQ Paris","dept":"Engineering","cip":"{cip}","sip":"{sip}","reqmethod":"{method}","respcode":"{status}","ua":"{agent}","ereferer":"None","ruletype":"None","rulelabel":"None","contenttype":"text/html","unscannabletype":"None","deviceowner":"user{owner:05}","devicehostname":"{host}"}}}}"#,
            ),
            Dialect::Sekoia => writeln!(
                out,
                r#"{mon} {d:>2} {hh:02}:{mm:02}:{ss:02} zscaler-nss {{ "sourcetype" : "zscalernss-web", "event" : {{"datetime":"{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}","reason":"{action}","event_id":"{id}","protocol":"{proto}","action":"{action}","transactionsize":"{total}","responsesize":"{respsize}","requestsize":"{reqsize}","urlcategory":"{category}","serverip":"{sip}","requestmethod":"{method}","refererURL":"None","useragent":"{eurl_agent}","product":"NSS","location":"HQ%20Paris","ClientIP":"{cip}","status":"{status}","user":"{login}","url":"{site}{path}","vendor":"Zscaler","hostname":"{site}","clientpublicIP":"198.51.100.{c}","threatcategory":"None","threatname":"None","filetype":"None","appname":"General Browsing","pagerisk":"0","department":"Engineering","urlsupercategory":"Information Technology","appclass":"General Browsing","dlpengine":"None","urlclass":"Business Use","threatclass":"None","dlpdictionaries":"None","fileclass":"None","bwthrottle":"NO","contenttype":"text/html","unscannabletype":"None","deviceowner":"user{owner:05}","devicehostname":"{host}","keyprotectiontype":"N/A"}}}}"#,
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

/// Applications behind the App Connectors: name, segment group, port, IP protocol (6 tcp, 17
/// udp) and the host name prefix of its servers.
const APPS: &[(&str, &str, u16, u8, &str)] = &[
    ("Intranet Portal", "Corporate Web", 443, 6, "intranet"),
    ("Jira", "Engineering", 8443, 6, "jira"),
    ("Git over SSH", "Engineering", 22, 6, "git"),
    ("RDP Jump Hosts", "Server Admin", 3389, 6, "jump"),
    ("File Shares", "Corporate IT", 445, 6, "files"),
    ("Internal DNS", "Infrastructure", 53, 17, "dns"),
    ("SAP ERP", "Finance", 3200, 6, "sap"),
    ("Build Farm", "Engineering", 443, 6, "ci"),
];
/// Where users connect from: country, city, latitude, longitude, the ZEN (broker) they reach.
/// Latitude and longitude as LSS writes them, six decimals.
const PLACES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "US",
        "San Jose",
        "37.339400",
        "-121.895000",
        "broker1b.pdx2",
    ),
    ("GB", "London", "51.507200", "-0.127600", "broker2a.lon3"),
    ("FR", "Paris", "48.856600", "2.352200", "broker1a.par2"),
    ("DE", "Frankfurt", "50.110900", "8.682100", "broker3b.fra4"),
    ("IN", "Mumbai", "19.076000", "72.877700", "broker1a.bom1"),
    ("JP", "Tokyo", "35.676200", "139.650300", "broker2b.tyo1"),
];
const PLATFORMS: &[&str] = &[
    "windows", "windows", "windows", "mac", "linux", "ios", "android",
];
const CLOSE_REASONS: &[&str] = &[
    "",
    "BRK_MT_CLOSED_FROM_CLIENT",
    "BRK_MT_CLOSED_FROM_ASSISTANT",
    "BRK_MT_TERMINATED",
];
/// How many connections are open at once: records of different connections interleave, as
/// they do in a real stream.
const LIVE_SLOTS: u64 = 256;
/// The characters of LSS session and connection ids.
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A ZPA connection between its first and last record.
#[derive(Debug, Clone, Copy)]
struct Live {
    device: u64,
    server: u64,
    /// Unique in the run (and across seeds): the second half of the ConnectionID.
    conn: u64,
    start_ms: u64,
    /// Records already written: 1 after "open", 2 after "active"; the third is "close".
    records: u8,
    rx_total: u64,
    tx_total: u64,
}

/// Writes ZPA User Activity records (LSS default JSON template, every field of the current
/// field set, in the template's order), one per call, into a caller's buffer.
///
/// Each connection is reported three times, as LSS does for a short one: `open`, `active`
/// (bytes so far) and `close` (with its end time), interleaved with other connections. A device
/// always belongs to the same user and session, so attribution and the device registry see a
/// stable picture. One record in 200 reports a connection of the LSS client itself
/// ("ZPA LSS Client", no hostname), which a collector must accept without making it a device.
pub struct ActivityGenerator {
    rng: Rng,
    cardinality: Cardinality,
    /// A salt from the seed, so that runs with different seeds never share a ConnectionID.
    salt: u64,
    /// The time of the record being written, in milliseconds since the epoch.
    now_ms: u64,
    clock: Clock,
    live: Vec<Option<Live>>,
    next_conn: u64,
}

impl ActivityGenerator {
    pub fn new(seed: u64, cardinality: Cardinality) -> Self {
        ActivityGenerator {
            rng: Rng::new(seed ^ 0x5A50_4100),
            cardinality,
            salt: mix(seed),
            now_ms: 1_763_800_000_000,
            clock: Clock::Jitter,
            live: vec![None; LIVE_SLOTS as usize],
            next_conn: 0,
        }
    }

    /// Feed time advances as if `records_per_second` records were written each second (see
    /// `WebGenerator::at_rate`).
    pub fn at_rate(mut self, records_per_second: u64) -> Self {
        self.clock = Clock::Rate {
            per_second: records_per_second.max(1),
            written: 0,
        };
        self
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        self.now_ms = match &mut self.clock {
            Clock::Jitter => self.now_ms + self.rng.below(4),
            Clock::Rate {
                per_second,
                written,
            } => {
                *written += 1;
                1_763_800_000_000 + *written * 1000 / *per_second
            }
        };
        if self.rng.below(200) == 0 {
            self.write_lss_client(out);
            return;
        }
        let slot = self.rng.below(LIVE_SLOTS) as usize;
        let c = match self.live[slot] {
            Some(mut c) => {
                c.records += 1;
                c
            }
            None => {
                self.next_conn += 1;
                Live {
                    device: self.rng.below(self.cardinality.devices),
                    server: self.rng.below(self.cardinality.servers),
                    conn: self.next_conn,
                    start_ms: self.now_ms,
                    records: 1,
                    rx_total: 0,
                    tx_total: 0,
                }
            }
        };
        // Bytes since the previous record of this connection: requests up, responses down.
        let (rx, tx) = match c.records {
            1 => (60 + self.rng.below(1500), 0),
            _ => (self.rng.below(20_000), self.rng.below(400_000)),
        };
        let c = Live {
            rx_total: c.rx_total + rx,
            tx_total: c.tx_total + tx,
            ..c
        };
        let status = match c.records {
            1 => "open",
            2 => "active",
            _ => "close",
        };
        self.live[slot] = (status != "close").then_some(c);
        self.write_record(out, &c, status, rx, tx);
    }

    fn write_record(&mut self, out: &mut String, c: &Live, status: &str, rx: u64, tx: u64) {
        let r = &mut self.rng;
        let d = c.device;
        let user = d % self.cardinality.users.max(1);
        let (app, group, port, proto, prefix) = APPS[(c.server % APPS.len() as u64) as usize];
        let (country, city, lat, lon, zen) = PLACES[(d % PLACES.len() as u64) as usize];
        let connector = c.server % 4;
        let connector_zen = PLACES[(connector % PLACES.len() as u64) as usize].4;
        // A stable source port per connection: attribution looks connections up by it.
        let connector_port = 1024 + (mix(c.conn ^ self.salt) % 64_000);
        let s = c.server;
        let reason = if status == "close" {
            r.pick(CLOSE_REASONS)
        } else {
            ""
        };
        let policy_ms = 10 + r.below(90);
        let ca_us = 500 + r.below(2000);
        let setup_us = 2_000 + r.below(200_000);
        let server_setup_us = 100 + r.below(5_000);
        let start = c.start_ms;
        let first_rx = start + setup_us / 1000 + 1;
        let _ = write!(out, r#"{{"LogTimestamp": ""#);
        write_ctime(out, self.now_ms / 1000);
        let _ = write!(out, r#"","Customer": "Example Corp","SessionID": ""#);
        push_id(out, mix(d ^ self.salt));
        out.push_str(r#"","ConnectionID": ""#);
        push_id(out, mix(d ^ self.salt));
        out.push(',');
        push_id(out, mix(c.conn.wrapping_add(self.salt)));
        let _ = write!(
            out,
            r#"","InternalReason": "{reason}","ConnectionStatus": "{status}","IPProtocol": {proto},"DoubleEncryption": 0,"Username": "user{user:05}@corp.example.com","ServicePort": {port},"ClientPublicIP": "198.51.100.{pub_ip}","ClientPrivateIP": "10.{a}.{b}.{c}","ClientLatitude": {lat},"ClientLongitude": {lon},"ClientCountryCode": "{country}","ClientZEN": "{zen}","Policy": "Allow {group}","Connector": "dc{dc}-connector-{connector}","ConnectorZEN": "{connector_zen}","ConnectorIP": "10.0.{connector}.5","ConnectorPort": {connector_port},"Host": "{prefix}{s:04}.corp.example.com","Application": "{app}","AppGroup": "{group}","Server": "0","ServerIP": "10.{sa}.{sb}.{sc}","ServerPort": {port},"PolicyProcessingTime": {policy_ms},"CAProcessingTime": {ca_us},"ConnectorZENSetupTime": {zen_setup},"ConnectionSetupTime": {setup_us},"ServerSetupTime": {server_setup_us},"AppLearnTime": 0,"TimestampConnectionStart": ""#,
            pub_ip = d % 250,
            a = 20 + d / 65536 % 200,
            b = d / 256 % 256,
            c = d % 256,
            dc = 1 + connector / 2,
            zen_setup = setup_us - ca_us.min(setup_us),
            sa = 100 + s / 65536 % 100,
            sb = s / 256 % 256,
            sc = s % 256,
        );
        write_iso(out, start);
        out.push_str(r#"","TimestampConnectionEnd": ""#);
        if status == "close" {
            write_iso(out, self.now_ms);
        }
        out.push_str(r#"","TimestampCATx": ""#);
        write_iso(out, start);
        out.push_str(r#"","TimestampCARx": ""#);
        write_iso(out, start + 1);
        out.push_str(r#"","TimestampAppLearnStart": "","TimestampZENFirstRxClient": ""#);
        write_iso(out, first_rx);
        out.push_str(r#"","TimestampZENFirstTxClient": ""#);
        let answered = c.tx_total > 0;
        if answered {
            write_iso(out, first_rx + 1);
        }
        out.push_str(r#"","TimestampZENLastRxClient": ""#);
        write_iso(out, self.now_ms.max(first_rx));
        out.push_str(r#"","TimestampZENLastTxClient": ""#);
        if answered {
            write_iso(out, self.now_ms.max(first_rx + 1));
        }
        out.push_str(r#"","TimestampConnectorZENSetupComplete": ""#);
        write_iso(out, first_rx - 1);
        out.push_str(r#"","TimestampZENFirstRxConnector": ""#);
        if answered {
            write_iso(out, first_rx + 1);
        }
        out.push_str(r#"","TimestampZENFirstTxConnector": ""#);
        write_iso(out, first_rx);
        out.push_str(r#"","TimestampZENLastRxConnector": ""#);
        if answered {
            write_iso(out, self.now_ms.max(first_rx + 1));
        }
        out.push_str(r#"","TimestampZENLastTxConnector": ""#);
        write_iso(out, self.now_ms.max(first_rx));
        let platform = PLATFORMS[(d % PLATFORMS.len() as u64) as usize];
        let _ = writeln!(
            out,
            r#"","ZENTotalBytesRxClient": {rx_total},"ZENBytesRxClient": {rx},"ZENTotalBytesTxClient": {tx_total},"ZENBytesTxClient": {tx},"ZENTotalBytesRxConnector": {tx_total},"ZENBytesRxConnector": {tx},"ZENTotalBytesTxConnector": {rx_total},"ZENBytesTxConnector": {rx},"Idp": "Corp Azure AD","ClientToClient": "0","ClientCity": "{city}","MicroTenantID": "0","AppMicrotenantID": "0","Platform": "{platform}","Hostname": "LAPTOP-{d:06X}"}}"#,
            rx_total = c.rx_total,
            tx_total = c.tx_total,
        );
    }

    /// The LSS service's own long-lived connection, as the Zscaler help sample shows it.
    fn write_lss_client(&mut self, out: &mut String) {
        let r = &mut self.rng;
        let bytes = 1_000 + r.below(100_000);
        out.push_str(r#"{"LogTimestamp": ""#);
        write_ctime(out, self.now_ms / 1000);
        out.push_str(r#"","Customer": "Example Corp","SessionID": ""#);
        push_id(out, self.salt);
        // A connection of its own per record: one connection reported over and over would
        // look like LSS re-sending a record, which collectors de-duplicate.
        self.next_conn += 1;
        out.push_str(r#"","ConnectionID": ""#);
        push_id(out, self.salt);
        out.push(',');
        push_id(out, mix(self.next_conn.wrapping_add(self.salt)));
        let _ = write!(
            out,
            r#"","InternalReason": "","ConnectionStatus": "active","IPProtocol": 6,"DoubleEncryption": 0,"Username": "ZPA LSS Client","ServicePort": 1514,"ClientPublicIP": "203.0.113.10","ClientPrivateIP": "","ClientLatitude": 37.339400,"ClientLongitude": -121.895000,"ClientCountryCode": "US","ClientZEN": "broker1b.pdx2","Policy": "","Connector": "dc1-connector-0","ConnectorZEN": "broker1b.pdx2","ConnectorIP": "10.0.0.5","ConnectorPort": 60266,"Host": "10.9.0.14","Application": "","AppGroup": "","Server": "0","ServerIP": "10.9.0.14","ServerPort": 1514,"PolicyProcessingTime": 0,"CAProcessingTime": 0,"ConnectorZENSetupTime": 0,"ConnectionSetupTime": 0,"ServerSetupTime": 0,"AppLearnTime": 0,"TimestampConnectionStart": "2025-11-20T08:00:00.000Z","TimestampConnectionEnd": "","TimestampCATx": "","TimestampCARx": "","TimestampAppLearnStart": "","TimestampZENFirstRxClient": "2025-11-20T08:00:00.120Z","TimestampZENFirstTxClient": "","TimestampZENLastRxClient": ""#
        );
        write_iso(out, self.now_ms);
        let _ = writeln!(
            out,
            r#"","TimestampZENLastTxClient": "","TimestampConnectorZENSetupComplete": "2025-11-20T08:00:00.118Z","TimestampZENFirstRxConnector": "","TimestampZENFirstTxConnector": "2025-11-20T08:00:00.121Z","TimestampZENLastRxConnector": "","TimestampZENLastTxConnector": "2025-11-20T08:00:00.121Z","ZENTotalBytesRxClient": {bytes},"ZENBytesRxClient": {bytes},"ZENTotalBytesTxClient": 0,"ZENBytesTxClient": 0,"ZENTotalBytesRxConnector": 0,"ZENBytesRxConnector": 0,"ZENTotalBytesTxConnector": {bytes},"ZENBytesTxConnector": {bytes},"Idp": "","ClientToClient": "0","ClientCity": "San Jose","MicroTenantID": "0","AppMicrotenantID": "0","Platform": "","Hostname": ""}}"#
        );
    }

    /// `n` records as one block of LF-terminated lines.
    pub fn lines(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n * 2600);
        for _ in 0..n {
            self.write(&mut out);
        }
        out
    }
}

/// splitmix64's finaliser: spreads a counter over all 64 bits, for ids that look random but
/// are a function of what they name.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 20-character id in LSS's alphabet (SessionID, and each half of ConnectionID): 60 bits of
/// `x`, then 60 bits of a second mix of it.
fn push_id(out: &mut String, x: u64) {
    let y = mix(x);
    for word in [x, y] {
        for i in 0..10 {
            out.push(ID_ALPHABET[((word >> (6 * i)) & 63) as usize] as char);
        }
    }
}

/// `Fri May 31 17:35:42 2019`, in UTC (LSS's LogTimestamp).
fn write_ctime(out: &mut String, secs: u64) {
    let day = secs / 86_400;
    let (y, m, d) = civil_from_days(day as i64);
    let _ = write!(
        out,
        "{} {} {d:02} {:02}:{:02}:{:02} {y}",
        DAYS[(day % 7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    );
}

/// `2019-05-30T08:20:42.230Z` (LSS's Timestamp… fields).
fn write_iso(out: &mut String, ms: u64) {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let _ = write!(
        out,
        "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
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

    #[test]
    fn activity_records_parse_as_zpa_with_no_dead_letters() {
        use crate::metrics::Counter;
        use crate::parse::time::parse_zone;
        use crate::pipeline::{Batch, Origin, Pipeline};

        let n = 3000;
        let cardinality = Cardinality {
            devices: 50,
            users: 40,
            servers: 30,
        };
        let text = ActivityGenerator::new(7, cardinality).lines(n);
        let mut pipeline = Pipeline::new(parse_zone("UTC").unwrap());
        let origin = Origin {
            peer: "127.0.0.1:9".parse().unwrap(),
            received: "2025-11-22T10:00:00Z".parse().unwrap(),
        };
        let mut batch = Batch::new(0);
        for line in text.lines() {
            pipeline.process(line.as_bytes(), &origin, &mut batch);
        }
        assert!(
            batch.dead.is_empty(),
            "dead letter {:?}: {}",
            batch.dead[0].reason,
            String::from_utf8_lossy(&batch.dead[0].raw)
        );
        assert_eq!(
            batch.counters.get(Counter::RecordsZpaUserActivity),
            n as u64
        );
        let records = String::from_utf8(batch.records).unwrap();
        for status in [
            "\"status\":\"open\"",
            "\"status\":\"active\"",
            "\"status\":\"close\"",
        ] {
            assert!(records.contains(status), "no {status}");
        }
        assert!(records.contains("\"transport\":\"udp\""));
        assert!(records.contains("\"end\":"));
    }

    #[test]
    fn activity_connections_go_open_active_close_with_unique_ids() {
        let text = ActivityGenerator::new(3, Cardinality::default()).lines(20_000);
        let mut seen = std::collections::HashMap::<String, Vec<String>>::new();
        // What a collector de-duplicates on (DESIGN §3): no two records may share it.
        let mut keys = std::collections::HashSet::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let key = (
                v["ConnectionID"].to_string(),
                v["ConnectionStatus"].to_string(),
                v["TimestampConnectionStart"].to_string(),
            );
            assert!(keys.insert(key), "a duplicate: {line}");
            if v["Username"] == "ZPA LSS Client" {
                continue;
            }
            let id = v["ConnectionID"].as_str().unwrap().to_string();
            let status = v["ConnectionStatus"].as_str().unwrap().to_string();
            seen.entry(id).or_default().push(status);
        }
        for statuses in seen.values() {
            let want = ["open", "active", "close"];
            assert_eq!(statuses[..], want[..statuses.len()], "{statuses:?}");
        }
        assert!(seen.len() > 5000);
        let avg = text.len() / 20_000;
        assert!((1500..3500).contains(&avg), "{avg} bytes per line");
    }

    #[test]
    fn activity_has_every_default_template_field() {
        let line = ActivityGenerator::new(1, Cardinality::default()).lines(1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        for key in [
            "LogTimestamp",
            "Customer",
            "SessionID",
            "ConnectionID",
            "InternalReason",
            "ConnectionStatus",
            "IPProtocol",
            "DoubleEncryption",
            "Username",
            "ServicePort",
            "ClientPublicIP",
            "ClientPrivateIP",
            "ClientLatitude",
            "ClientLongitude",
            "ClientCountryCode",
            "ClientZEN",
            "Policy",
            "Connector",
            "ConnectorZEN",
            "ConnectorIP",
            "ConnectorPort",
            "Host",
            "Application",
            "AppGroup",
            "Server",
            "ServerIP",
            "ServerPort",
            "PolicyProcessingTime",
            "CAProcessingTime",
            "ConnectorZENSetupTime",
            "ConnectionSetupTime",
            "ServerSetupTime",
            "AppLearnTime",
            "TimestampConnectionStart",
            "TimestampConnectionEnd",
            "TimestampCATx",
            "TimestampCARx",
            "TimestampAppLearnStart",
            "TimestampZENFirstRxClient",
            "TimestampZENFirstTxClient",
            "TimestampZENLastRxClient",
            "TimestampZENLastTxClient",
            "TimestampConnectorZENSetupComplete",
            "TimestampZENFirstRxConnector",
            "TimestampZENFirstTxConnector",
            "TimestampZENLastRxConnector",
            "TimestampZENLastTxConnector",
            "ZENTotalBytesRxClient",
            "ZENBytesRxClient",
            "ZENTotalBytesTxClient",
            "ZENBytesTxClient",
            "ZENTotalBytesRxConnector",
            "ZENBytesRxConnector",
            "ZENTotalBytesTxConnector",
            "ZENBytesTxConnector",
            "Idp",
            "ClientToClient",
            "ClientCity",
            "MicroTenantID",
            "AppMicrotenantID",
            "Platform",
            "Hostname",
        ] {
            assert!(v.get(key).is_some(), "{key} missing");
        }
        assert_eq!(v.as_object().unwrap().len(), 62);
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
        s.push(' ');
        write_ctime(&mut s, 1_559_324_142);
        assert_eq!(s, "2019-05-30T08:20:42.230Z Fri May 31 17:35:42 2019");
    }
}

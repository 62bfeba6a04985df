//! Synthetic NSS web records in the feed templates users run.

use std::fmt::Write as _;

use super::{civil_from_days, options, Cardinality, ClientIp, Nss, Run, DAYS, MONTHS};

/// The feed templates the generator can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// ztel's own feed format (`ztel feed-format zia-web`).
    Ztel,
    /// Elastic's NSS template: the default field set wrapped in the envelope, all strings.
    Elastic,
    /// The Splunk / Sekoia / Datadog template behind an RFC 3164 header.
    Sekoia,
    /// Zscaler's QRadar LEEF template.
    Leef,
    /// Zscaler's ArcSight / Sentinel CEF template.
    Cef,
    /// Zscaler's Splunk CIM key=value template.
    Kv,
    /// The NSS default output: positional, every field quoted.
    Csv,
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

/// The values of one synthetic web record, which each dialect writes its own way.
pub(super) struct Web {
    /// Feed time, seconds since the epoch.
    pub secs: u64,
    pub id: u64,
    pub device: u64,
    pub owner: u64,
    pub login: String,
    pub host: String,
    pub cip: String,
    pub sip: String,
    pub site: &'static str,
    pub path: &'static str,
    pub agent: &'static str,
    pub category: &'static str,
    pub proto: &'static str,
    pub method: &'static str,
    pub action: &'static str,
    pub status: u16,
    pub reqsize: u64,
    pub respsize: u64,
}

/// A time's civil parts in UTC: (year, month, day, hour, minute, second, weekday, month name).
pub(super) struct Civil {
    pub y: i64,
    pub m: u32,
    pub d: u32,
    pub hh: u64,
    pub mm: u64,
    pub ss: u64,
    pub weekday: &'static str,
    pub mon: &'static str,
}

impl Web {
    pub fn civil(&self) -> Civil {
        let (secs, day) = (self.secs, self.secs / 86_400);
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

    /// The user agent as NSS writes its `eua` (URL-encoded spaces).
    pub fn eua(&self) -> String {
        self.agent.replace(' ', "%20")
    }

    /// The JSON dialects.
    fn json(&self, dialect: Dialect, out: &mut String) {
        let Civil {
            y,
            m,
            d,
            hh,
            mm,
            ss,
            weekday,
            mon,
        } = self.civil();
        let Web {
            secs,
            device,
            owner,
            ref login,
            ref host,
            ref cip,
            ref sip,
            site,
            path,
            agent,
            category,
            proto,
            method,
            action,
            status,
            reqsize,
            respsize,
            ..
        } = *self;
        let eurl_agent = self.eua();
        let _ = match dialect {
            Dialect::Ztel => writeln!(
                out,
                r#"{{"sourcetype":"zscalernss-web","event":{{"epochtime":"{secs}","recordid":"{id}","elogin":"{login}","proto":"{proto}","eurl":"{site}{path}","ehost":"{site}","action":"{action}","reqmethod":"{method}","respcode":"{status}","reqsize":"{reqsize}","respsize":"{respsize}","cip":"{cip}","cintip":"198.51.100.{c}","sip":"{sip}","urlcat":"{category}","deviceowner":"user{owner:05}","devicehostname":"{host}","eua":"{eurl_agent}","ereferer":"https://{site}{path}","elocation":"HQ%20Paris"}}}}"#,
                id = self.id,
                c = device % 250,
            ),
            Dialect::Elastic => writeln!(
                out,
                r#"{{ "sourcetype" : "zscalernss-web", "event" :{{"time":"{weekday} {mon} {d:02} {hh:02}:{mm:02}:{ss:02} {y}","login":"{login}","proto":"{proto}","eurl":"{site}{path}","action":"{action}","appname":"General Browsing","appclass":"General Browsing","reqsize":"{reqsize}","respsize":"{respsize}","stime":"0","ctime":"0","urlclass":"Business Use","urlsupercat":"Information Technology","urlcat":"{category}","malwarecat":"None","threatname":"None","riskscore":"0","dlpeng":"None","dlpdict":"None","location":"HQ Paris","dept":"Engineering","cip":"{cip}","sip":"{sip}","reqmethod":"{method}","respcode":"{status}","ua":"{agent}","ereferer":"None","ruletype":"None","rulelabel":"None","contenttype":"text/html","unscannabletype":"None","deviceowner":"user{owner:05}","devicehostname":"{host}"}}}}"#,
            ),
            Dialect::Sekoia => writeln!(
                out,
                r#"{mon} {d:>2} {hh:02}:{mm:02}:{ss:02} zscaler-nss {{ "sourcetype" : "zscalernss-web", "event" : {{"datetime":"{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}","reason":"{action}","event_id":"{id}","protocol":"{proto}","action":"{action}","transactionsize":"{total}","responsesize":"{respsize}","requestsize":"{reqsize}","urlcategory":"{category}","serverip":"{sip}","requestmethod":"{method}","refererURL":"None","useragent":"{eurl_agent}","product":"NSS","location":"HQ%20Paris","ClientIP":"{cip}","status":"{status}","user":"{login}","url":"{site}{path}","vendor":"Zscaler","hostname":"{site}","clientpublicIP":"198.51.100.{c}","threatcategory":"None","threatname":"None","filetype":"None","appname":"General Browsing","pagerisk":"0","department":"Engineering","urlsupercategory":"Information Technology","appclass":"General Browsing","dlpengine":"None","urlclass":"Business Use","threatclass":"None","dlpdictionaries":"None","fileclass":"None","bwthrottle":"NO","contenttype":"text/html","unscannabletype":"None","deviceowner":"user{owner:05}","devicehostname":"{host}","keyprotectiontype":"N/A"}}}}"#,
                id = self.id,
                total = reqsize + respsize,
                c = device % 250,
            ),
            _ => Ok(()),
        };
    }
}

/// Writes NSS web records, one per call, into a caller's buffer.
pub struct WebGenerator {
    run: Run,
    nss: Nss,
    dialect: Dialect,
}

impl WebGenerator {
    pub fn new(seed: u64, dialect: Dialect, cardinality: Cardinality) -> Self {
        WebGenerator {
            run: Run::new(seed, cardinality),
            nss: Nss::new(7_300_000_000_000_000_000, seed),
            dialect,
        }
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        let (head, r) = self.nss.next(&mut self.run);
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
        let (who, server) = (head.who, head.server);
        let w = Web {
            secs: head.secs,
            id: head.id,
            device: who.device,
            owner: who.owner,
            login: format!("user{:05}@corp.example.com", who.user),
            host: format!("LAPTOP-{:06X}", who.device),
            cip: ClientIp(who.ip).to_string(),
            sip: format!(
                "{}.{}.{}.{}",
                13 + server / 65536 % 200,
                server / 256 % 256,
                server % 256,
                10
            ),
            site,
            path,
            agent,
            category,
            proto,
            method,
            action,
            status,
            reqsize,
            respsize,
        };
        match self.dialect {
            Dialect::Ztel | Dialect::Elastic | Dialect::Sekoia => w.json(self.dialect, out),
            Dialect::Leef => super::leef::web(&w, out),
            Dialect::Cef => super::cef::web(&w, out),
            Dialect::Kv => super::kv::web(&w, out),
            Dialect::Csv => super::csv::web(&w, out),
        }
    }
}

options!(WebGenerator, 1100);

#[cfg(test)]
mod tests {
    use super::*;

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

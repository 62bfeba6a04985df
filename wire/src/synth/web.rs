//! Synthetic NSS web records in the feed templates users run.

use std::fmt::{self, Write as _};

use super::{options, Addr, Cardinality, Hostname, Nss, Run, User};

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

/// The values of one synthetic web record, as its fields hold them, which each dialect writes
/// its own way.
pub(super) struct Web {
    /// Feed time, seconds since the epoch.
    pub secs: u64,
    pub id: u64,
    pub login: User,
    pub owner: User,
    pub host: Hostname,
    pub cip: Addr,
    /// The client's public address, which the server sees.
    pub cpubip: Addr,
    pub sip: Addr,
    /// The host the URL names.
    pub site: &'static str,
    pub url: Url,
    /// The URL, its host and the user agent as NSS's `e…` variables write them.
    pub eurl: Escaped<Url>,
    pub ehost: Escaped<&'static str>,
    pub eua: Escaped<&'static str>,
    pub agent: &'static str,
    pub category: &'static str,
    pub proto: &'static str,
    pub method: &'static str,
    pub action: &'static str,
    /// Why, as NSS words it.
    pub reason: &'static str,
    pub status: u16,
    pub reqsize: u64,
    pub respsize: u64,
}

/// A URL without its scheme, as NSS writes `url`.
#[derive(Clone, Copy)]
pub(super) struct Url {
    site: &'static str,
    path: &'static str,
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.site)?;
        f.write_str(self.path)
    }
}

/// A value as NSS writes an `e…` variable (`eurl`, `ehost`, `eua`): bytes up to a space and from
/// DEL on as `%HH`, with the Feed Escape Characters left at their default.
#[derive(Clone, Copy)]
pub(super) struct Escaped<T>(T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Percent(f), "{}", self.0)
    }
}

/// Passes text on with the bytes NSS escapes as `%HH`.
struct Percent<'a, 'f>(&'a mut fmt::Formatter<'f>);

impl fmt::Write for Percent<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The bytes kept between two escaped ones are ASCII, so each run starts and ends on a
        // char boundary.
        let mut kept = 0;
        for (i, b) in s.bytes().enumerate() {
            if b <= 0x20 || b >= 0x7f {
                if kept < i {
                    self.0.write_str(&s[kept..i])?;
                }
                write!(self.0, "%{b:02X}")?;
                kept = i + 1;
            }
        }
        if kept < s.len() {
            self.0.write_str(&s[kept..])?;
        }
        Ok(())
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
        let (action, reason, status) = if blocked {
            ("Blocked", "Not allowed to browse this category", 403)
        } else {
            ("Allowed", "Allowed", 200)
        };
        let reqsize = 200 + r.below(4000);
        let respsize = 65 + r.below(200_000);
        let who = head.who;
        let url = Url { site, path };
        let w = Web {
            secs: head.secs,
            id: head.id,
            login: User::Login(who.user),
            owner: User::Owner(who.owner),
            host: Hostname(who.device),
            cip: Addr::Client(who.ip),
            cpubip: Addr::Public(who.device),
            sip: Addr::Server(head.server),
            site,
            url,
            eurl: Escaped(url),
            ehost: Escaped(site),
            eua: Escaped(agent),
            agent,
            category,
            proto,
            method,
            action,
            reason,
            status,
            reqsize,
            respsize,
        };
        match self.dialect {
            Dialect::Ztel => super::json::ztel(&w, out),
            Dialect::Elastic => super::json::elastic(&w, out),
            Dialect::Sekoia => super::json::sekoia(&w, out),
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

    #[test]
    fn escapes_as_nss_does() {
        let escaped = Escaped("a b\tc\u{7f}é~%").to_string();
        assert_eq!(escaped, "a%20b%09c%7F%C3%A9~%");
        assert_eq!(Escaped("é").to_string(), "%C3%A9");
        assert_eq!(Escaped("").to_string(), "");
    }
}

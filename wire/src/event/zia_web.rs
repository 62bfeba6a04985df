//! A ZIA web log (NSS "Web Log" feed) as the values of a connection record (DESIGN §2.4).

use std::borrow::Cow;
use std::ops::Range;

use jiff::Timestamp;

use super::{port_or, zia_time, zia_who, Context, Device, Facts, Kind, Reason, ZiaWho};
use crate::fields::{Fields, Scratch};
use crate::keys::Field;
use crate::value::{self, Text};

/// ZIA logs carry no client source port unless Zscaler Support enables `clt_sport`; the seeds'
/// collector then assigns this simulated port, and so does ztel.
pub const SIMULATED_SOURCE_PORT: u16 = 18000;

/// One web transaction, borrowing from the parsed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct WebEvent<'a> {
    pub ts: Timestamp,
    /// `devicehostname` as seen, trimmed; `None` when the feed has none.
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub owner: Option<Cow<'a, str>>,
    pub src_ip: Option<Cow<'a, str>>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    pub dst_host: Option<Text<'a>>,
    pub app_proto: Option<Cow<'a, str>>,
    pub bytes_out: Option<u64>,
    pub bytes_in: Option<u64>,
    pub action: Option<Cow<'a, str>>,
    pub method: Option<Cow<'a, str>>,
    pub http_status: Option<u64>,
    pub url: Option<Text<'a>>,
    pub category: Option<Cow<'a, str>>,
    pub app: Option<Cow<'a, str>>,
    pub user_agent: Option<Text<'a>>,
    pub referer: Option<Text<'a>>,
    pub location: Option<Text<'a>>,
    pub department: Option<Text<'a>>,
    pub threat: Option<Text<'a>>,
    pub threat_category: Option<Cow<'a, str>>,
    pub risk: Option<u64>,
    pub record_id: Option<u64>,
    /// Keyed by the hostname, else the client IP.
    pub device: Option<Device<'a>>,
}

impl<'a> WebEvent<'a> {
    // Inlined where the record is written: returned through a `Result`, the event (most of a
    // KiB) was copied twice per record.
    #[inline(always)]
    pub fn from_fields(
        f: &Fields<'a>,
        ctx: &Context<'_>,
        scratch: &'a mut Scratch,
    ) -> Result<WebEvent<'a>, Reason> {
        let Scratch {
            hostname,
            user,
            action,
            ..
        } = scratch;
        let ts = zia_time(f, ctx)?;
        let proto = f.text(Field::Proto);
        // The URL stays as sent: NSS escapes only bytes a host never holds, so its host and port
        // read the same before decoding.
        let url = f.record_text(Field::Url);
        let (url_host, url_port) = url.as_ref().map(|u| authority(raw(u))).unwrap_or_default();
        let dst_host = f.record_text(Field::Host).or_else(|| {
            let range = url_host.filter(|r| !r.is_empty())?;
            Some(match url.as_ref()? {
                Text::Plain(Cow::Borrowed(u)) => Text::Plain(Cow::Borrowed(&u[range])),
                Text::Plain(Cow::Owned(u)) => Text::Plain(Cow::Owned(u[range].to_owned())),
                Text::Percent(u, escapes) => Text::Percent(&u[range], *escapes),
            })
        });
        let protocol = proto.as_deref().map(|p| (p, known_protocol(p)));
        // The URL's port is the log's own: it stands in for a server port that is no port.
        let dst_port = port_or(f, Field::ServerPort, || {
            url_port.or_else(|| protocol.and_then(|(_, known)| known?.2))
        })
        .or(url_port);
        let src_port = port_or(f, Field::ClientPort, || Some(SIMULATED_SOURCE_PORT));
        let ZiaWho {
            hostname,
            user,
            src_ip,
            device,
        } = zia_who(f, hostname, user)?;
        Ok(WebEvent {
            ts,
            hostname,
            user,
            owner: f.text(Field::DeviceOwner),
            src_ip,
            src_port,
            dst_ip: f.ip(Field::ServerIp),
            dst_port,
            dst_host,
            app_proto: protocol.map(|(name, known)| app_proto(name, known)),
            bytes_out: f.u64(Field::BytesOut),
            bytes_in: f.u64(Field::BytesIn),
            action: f.text(Field::Action).map(|a| super::lower_in(a, action)),
            method: f.text(Field::Method),
            http_status: f.u64(Field::RespCode),
            url,
            category: f.text(Field::Category),
            app: f.text(Field::App),
            user_agent: f.record_text(Field::UserAgent),
            referer: f.record_text(Field::Referer),
            location: f.record_text(Field::Location),
            department: f.record_text(Field::Department),
            threat: f.record_text(Field::Threat),
            threat_category: f.text(Field::ThreatCategory),
            risk: f.u64(Field::RiskScore),
            record_id: f.u64(Field::RecordId),
            device,
        })
    }

    /// What the collector needs of it besides its record.
    pub fn into_facts(self) -> Facts<'a> {
        Facts {
            kind: Kind::ZiaWeb,
            ts: self.ts,
            device: self.device,
            flow: None,
        }
    }
}

/// A text value as sent (still percent-encoded, if it was).
fn raw<'t>(text: &'t Text<'_>) -> &'t str {
    match text {
        Text::Plain(t) => t,
        Text::Percent(t, _) => t,
    }
}

/// Where the host is in a URL as NSS writes it (usually without a scheme: `www.example.com/path`,
/// `host:443` for CONNECT), and its port. This runs for every web record: one pass over the
/// scheme and one over the authority, a table lookup per byte (memchr's calls cost more than
/// the twenty-odd bytes they would search).
fn authority(url: &str) -> (Option<Range<usize>>, Option<u16>) {
    let b = url.as_bytes();
    // A scheme's bytes are a host's too: the scheme and the authority are one pass.
    let mut i = past_scheme_bytes(b, 0);
    let start = if i < 16 && b[i..].starts_with(b"://") {
        i += 3;
        i
    } else {
        0
    };
    // The authority ends at the path, query or fragment; the host starts after its last `@`;
    // the colons counted are the host's.
    let (mut end, mut user_end, mut colons, mut last_colon) = (b.len(), None, 0, 0);
    loop {
        i = past_scheme_bytes(b, i);
        let Some(&c) = b.get(i) else {
            break;
        };
        match CLASS[usize::from(c)] {
            END => {
                end = i;
                break;
            }
            AT => {
                user_end = Some(i);
                colons = 0;
            }
            COLON => {
                colons += 1;
                last_colon = i;
            }
            _ => {}
        }
        i += 1;
    }
    let start = user_end.map_or(start, |i| i + 1);
    let auth = &url[start..end];
    if let Some(v6) = auth.strip_prefix('[') {
        return match v6.split_once(']') {
            Some((host, tail)) => (
                Some(start + 1..start + 1 + host.len()),
                tail.strip_prefix(':').and_then(parse_port),
            ),
            None => (Some(start..end), None),
        };
    }
    match colons {
        1 => (
            Some(start..last_colon),
            parse_port(&url[last_colon + 1..end]),
        ),
        _ => (Some(start..end), None),
    }
}

/// The first byte at or after `from` that is not of a scheme (or the end).
#[inline(always)]
fn past_scheme_bytes(b: &[u8], from: usize) -> usize {
    b.iter()
        .skip(from)
        .position(|&c| CLASS[usize::from(c)] != SCHEME)
        .map_or(b.len(), |n| from + n)
}

/// What a URL's byte means to [`authority`].
const OTHER: u8 = 0;
/// A byte of a scheme (and of a host): ASCII letters, digits, `+`, `-`, `.`.
const SCHEME: u8 = 1;
/// The end of the authority: `/`, `?`, `#`.
const END: u8 = 2;
const AT: u8 = 3;
const COLON: u8 = 4;

static CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        class[c] = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'+' | b'-' | b'.' => SCHEME,
            b'/' | b'?' | b'#' => END,
            b'@' => AT,
            b':' => COLON,
            _ => OTHER,
        };
        c += 1;
    }
    class
};

fn parse_port(p: &str) -> Option<u16> {
    value::parse_u64(p).and_then(port)
}

fn port(n: u64) -> Option<u16> {
    u16::try_from(n).ok().filter(|p| *p != 0)
}

/// Proxy protocols NSS names, as (name, app_proto, implied port).
const PROTOCOLS: [(&str, &str, Option<u16>); 10] = [
    ("HTTP", "http", Some(80)),
    ("HTTP_PROXY", "http", Some(80)),
    ("HTTPS", "https", Some(443)),
    ("SSL", "https", Some(443)),
    ("HTTPS_PROXY", "https", Some(443)),
    ("FTP", "ftp", Some(21)),
    ("FTPOVERHTTP", "ftp", Some(21)),
    // DNS over HTTPS is HTTPS. A CONNECT tunnel's port is its URL's (`host:443`), if any; these
    // are here so that their names are not lower-cased into a string of their own per record.
    ("DNSOVERHTTPS", "dnsoverhttps", Some(443)),
    ("TUNNEL", "tunnel", None),
    ("TUNNEL_SSL", "tunnel_ssl", None),
];

/// The entry of [`PROTOCOLS`] for a proxy protocol, whose third value is the port the protocol
/// implies (DESIGN §2.4).
fn known_protocol(proto: &str) -> Option<&'static (&'static str, &'static str, Option<u16>)> {
    // As NSS writes them, first: an exact match costs less than one ignoring case.
    let exact = PROTOCOLS.iter().find(|(name, ..)| *name == proto);
    exact.or_else(|| {
        let proto = proto.trim_ascii();
        PROTOCOLS
            .iter()
            .find(|(name, ..)| name.eq_ignore_ascii_case(proto))
    })
}

fn app_proto(
    proto: &str,
    known: Option<&'static (&'static str, &'static str, Option<u16>)>,
) -> Cow<'static, str> {
    match known {
        Some(p) => Cow::Borrowed(p.1),
        None => Cow::Owned(proto.trim_ascii().to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_forms() {
        let host = |url: &'static str| {
            let (range, port) = authority(url);
            (&url[range.unwrap()], port)
        };
        assert_eq!(host("www.example.com/join/"), ("www.example.com", None));
        assert_eq!(
            host("4171764.fls.doubleclick.net:443"),
            ("4171764.fls.doubleclick.net", Some(443))
        );
        assert_eq!(
            host("http://u:p@h.example:8080/x?y"),
            ("h.example", Some(8080))
        );
        assert_eq!(host("[2001:db8::1]:8443/a"), ("2001:db8::1", Some(8443)));
        assert_eq!(host("h.example?q=a:b"), ("h.example", None));
        assert_eq!(host("h.example:99999/"), ("h.example", None));
        assert_eq!(host("2001:db8::1/x"), ("2001:db8::1", None));
        assert_eq!(host("a.b/p?u=http://x.y:1/"), ("a.b", None));
    }

    /// The meaning of [`authority`], written with the standard library's searches.
    fn authority_reference(url: &str) -> (Option<Range<usize>>, Option<u16>) {
        let scheme_byte = |c: u8| c.is_ascii_alphanumeric() || b"+-.".contains(&c);
        let start = match url.bytes().take(16).position(|c| !scheme_byte(c)) {
            Some(i) if url[i..].starts_with("://") => i + 3,
            _ => 0,
        };
        let end = url[start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| start + i);
        let start = url[start..end].rfind('@').map_or(start, |i| start + i + 1);
        let auth = &url[start..end];
        if let Some(v6) = auth.strip_prefix('[') {
            return match v6.split_once(']') {
                Some((host, tail)) => (
                    Some(start + 1..start + 1 + host.len()),
                    tail.strip_prefix(':').and_then(parse_port),
                ),
                None => (Some(start..end), None),
            };
        }
        match auth.matches(':').count() {
            1 => {
                let colon = start + auth.find(':').unwrap_or(0);
                (Some(start..colon), parse_port(&url[colon + 1..end]))
            }
            _ => (Some(start..end), None),
        }
    }

    proptest::proptest! {
        #[test]
        fn authority_is_its_reference(
            url in "(https?://|[a-z+.-]{0,18}://)?[a-z0-9:@\\[\\]./?#%é-]{0,40}",
        ) {
            proptest::prop_assert_eq!(authority(&url), authority_reference(&url), "{}", url);
        }
    }

    #[test]
    fn protocols() {
        let port = |p| known_protocol(p).and_then(|k| k.2);
        assert_eq!(port("HTTP_PROXY"), Some(80));
        assert_eq!(port("SSL"), Some(443));
        assert_eq!(port(" ftp "), Some(21));
        assert_eq!(port("TUNNEL"), None);
        let app = |p| app_proto(p, known_protocol(p));
        assert_eq!(app("HTTPS"), "https");
        assert_eq!(app("TUNNEL_SSL"), "tunnel_ssl");
    }
}

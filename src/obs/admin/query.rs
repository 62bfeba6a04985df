//! The admin endpoint's query strings: `/devices`' page and `/attribution`'s flow key and time.
//! An error names the parameter; one given twice is refused (the two endpoints each took a
//! different one of the two, without a word).

use std::borrow::Cow;
use std::net::IpAddr;

use jiff::Timestamp;

use crate::batch::FlowKey;

/// The most of a bad parameter value echoed back in an error: enough to see the mistake.
const ECHO_MAX: usize = 64;

/// `/devices`' `offset` and `limit` (0 and 100 when not given).
pub(super) fn page(query: &str) -> Result<(usize, usize), String> {
    let pairs: Vec<(Cow<str>, Cow<str>)> = form_urlencoded::parse(query.as_bytes()).collect();
    let number = |name: &str, default: usize| match once(&pairs, name)? {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| bad(name, v, "a whole number")),
    };
    Ok((number("offset", 0)?, number("limit", 100)?))
}

/// The value of parameter `name`, if given; an error if given twice.
fn once<'a>(pairs: &'a [(Cow<str>, Cow<str>)], name: &str) -> Result<Option<&'a str>, String> {
    let mut given = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_ref());
    let first = given.next();
    match given.next() {
        Some(_) => Err(format!("parameter {name} given twice: give it once")),
        None => Ok(first),
    }
}

/// Reads the flow key and time from a query string; the error names the parameter.
pub(super) fn flow(query: &str, now: Timestamp) -> Result<(FlowKey, Timestamp), String> {
    let pairs: Vec<(Cow<str>, Cow<str>)> = form_urlencoded::parse(query.as_bytes()).collect();
    let get = |name: &str| once(&pairs, name);
    let required = |name: &str| get(name)?.ok_or_else(|| format!("missing parameter {name}"));
    let ip = |name: &str| -> Result<IpAddr, String> {
        let v = required(name)?;
        // Brackets are how IPv6 addresses are written next to ports: accept them.
        let bare = v
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(v);
        bare.parse()
            .map_err(|_| bad(name, v, "an IPv4 or IPv6 address"))
    };
    let port = |name: &str| -> Result<u16, String> {
        let v = required(name)?;
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(name, v, "a port number, 0 to 65535"));
        }
        v.parse()
            .map_err(|_| bad(name, v, "a port number, 0 to 65535"))
    };
    let key = FlowKey {
        connector_ip: ip("connector_ip")?,
        connector_port: port("connector_port")?,
        server_ip: ip("server_ip")?,
        server_port: port("server_port")?,
    };
    let at = match get("at")? {
        None | Some("") => now,
        Some(v) => parse_at(v)
            .ok_or_else(|| bad("at", v, "RFC 3339 (2024-01-18T10:31:05Z) or epoch seconds"))?,
    };
    Ok((key, at))
}

/// RFC 3339 or epoch seconds.
fn parse_at(v: &str) -> Option<Timestamp> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Timestamp::from_second(v.parse().ok()?).ok();
    }
    if let Ok(ts) = v.parse() {
        return Some(ts);
    }
    // An offset's '+' sent unencoded arrives as a space (form decoding): put it back.
    let (date, offset) = v.rsplit_once(' ')?;
    format!("{date}+{offset}").parse().ok()
}

fn bad(name: &str, value: &str, expected: &str) -> String {
    let shown: String = value.chars().take(ECHO_MAX).collect();
    let more = if shown.len() < value.len() { "…" } else { "" };
    format!("bad parameter {name}: expected {expected}, got {shown:?}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    const KEY: &str =
        "connector_ip=10.0.0.1&connector_port=40000&server_ip=10.0.0.2&server_port=443";

    #[test]
    fn query_defaults_at_to_now() {
        let (key, at) = flow(KEY, now()).unwrap();
        assert_eq!(key.connector_port, 40000);
        assert_eq!(at, now());
        let (_, at) = flow(&format!("{KEY}&at="), now()).unwrap();
        assert_eq!(at, now());
    }

    #[test]
    fn at_forms() {
        let want = Timestamp::from_second(1_705_573_865).unwrap();
        assert_eq!(parse_at("1705573865"), Some(want));
        assert_eq!(parse_at("2024-01-18T10:31:05Z"), Some(want));
        assert_eq!(parse_at("2024-01-18T11:31:05+01:00"), Some(want));
        assert_eq!(parse_at("2024-01-18T11:31:05 01:00"), Some(want));
        assert_eq!(parse_at("yesterday"), None);
        assert_eq!(parse_at("99999999999999999999"), None);
    }

    #[test]
    fn errors_name_the_parameter() {
        let e = flow("connector_ip=10.0.0.1", now()).unwrap_err();
        assert_eq!(e, "missing parameter connector_port");
        let e = flow(&KEY.replace("=443", "=+443"), now()).unwrap_err();
        assert!(e.starts_with("bad parameter server_port:"), "{e}");
        let e = flow(&KEY.replace("=443", "=70000"), now()).unwrap_err();
        assert!(e.starts_with("bad parameter server_port:"), "{e}");
        let long = "x".repeat(500);
        let e = flow(&format!("{KEY}&at={long}"), now()).unwrap_err();
        assert!(e.starts_with("bad parameter at:") && e.len() < 200, "{e}");
    }

    #[test]
    fn bracketed_and_encoded_ipv6() {
        let q = "connector_ip=%5Bfd00%3A%3A1%5D&connector_port=1&server_ip=fd00::2&server_port=2";
        let (key, _) = flow(q, now()).unwrap();
        assert_eq!(key.connector_ip, "fd00::1".parse::<IpAddr>().unwrap());
        assert_eq!(key.server_ip, "fd00::2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_parameter_given_twice_is_refused() {
        // `/devices` took the last of two, `/attribution` the first.
        let e = flow(&format!("{KEY}&connector_port=2"), now()).unwrap_err();
        assert_eq!(e, "parameter connector_port given twice: give it once");
        let e = page("limit=5&limit=7").unwrap_err();
        assert_eq!(e, "parameter limit given twice: give it once");
        assert_eq!(page("limit=5&offset=2"), Ok((2, 5)));
        assert_eq!(page(""), Ok((0, 100)));
        let e = page("limit=x").unwrap_err();
        assert!(e.starts_with("bad parameter limit:"), "{e}");
    }
}

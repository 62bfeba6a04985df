//! Which device a ZIA record names (its hostname, else its client IP), and what is no device.

mod common;

use common::run;

const ZONE: &str = "UTC";

/// A firewall record of the Sekoia template (no hostname), from client IP `cip`.
fn firewall(cip: &str) -> String {
    format!(
        r#"{{"sourcetype":"zscalernss-fw","event":{{"datetime":"Mon Nov  6 09:00:00 2023","login":"ann@x","csip":"{cip}","cdip":"1.2.3.4","csport":"50000","cdport":"443","action":"Allow","proto":"TCP"}}}}"#
    )
}

#[test]
fn the_unspecified_address_is_no_device_and_no_devices_ip() {
    // NSS writes 0.0.0.0 where it has no client IP: kept in the record, it names no device.
    let line = |host: &str| {
        format!(
            r#"{{"sourcetype":"zscalernss-web","event":{{"epochtime":"1699175223","recordid":"93","login":"nodev@x","proto":"HTTPS","eurl":"ex.com/","action":"Allowed","sip":"1.2.3.4","cip":"0.0.0.0","devicehostname":"{host}"}}}}"#
        )
    };
    let other = line("NA").replace("0.0.0.0", "::ffff:0.0.0.0");
    let out = run(
        ZONE,
        &[
            line("NA").as_bytes(),
            line("PC-9").as_bytes(),
            other.as_bytes(),
        ],
    );
    assert!(out.facts[2].device.is_none(), "{}", out.records[2]);
    assert!(out.dead.is_empty());
    assert_eq!(out.records[0]["src_ip"], "0.0.0.0");
    assert!(
        out.records[0].get("device_id").is_none(),
        "{}",
        out.records[0]
    );
    assert!(out.facts[0].device.is_none());
    let device = out.facts[1].device.as_ref().expect("PC-9");
    assert_eq!((device.key.as_ref(), device.ip.as_deref()), ("PC-9", None));
}

/// Regression: a client IP that is no address (`Unknown`, as audit samples have it) keyed a
/// device `Unknown` that every such record piled onto, and `::ffff:10.0.0.2` was another device
/// than `10.0.0.2`.
#[test]
fn a_client_ip_names_a_device_only_as_an_address_in_its_one_text() {
    let lines = [
        firewall("Unknown"),
        firewall("10.0.0.2:443"),
        firewall("::ffff:10.0.0.2"),
        firewall("2001:DB8::1"),
        firewall("10.0.0.2"),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let out = run(ZONE, &lines);
    assert!(out.dead.is_empty(), "{}", common::describe(&out.dead));
    // An address in its one text in the record too, as the registry and attribution write it
    // (a join on the text found neither); what is no address as sent.
    let sent: Vec<&str> = out
        .records
        .iter()
        .map(|r| r["src_ip"].as_str().unwrap())
        .collect();
    assert_eq!(
        sent,
        [
            "Unknown",
            "10.0.0.2:443",
            "10.0.0.2",
            "2001:db8::1",
            "10.0.0.2"
        ]
    );
    let keys: Vec<Option<(&str, Option<&str>)>> = out
        .facts
        .iter()
        .map(|f| f.device.as_ref().map(|d| (d.key.as_ref(), d.ip.as_deref())))
        .collect();
    assert_eq!(
        keys,
        [
            None,
            None,
            Some(("10.0.0.2", Some("10.0.0.2"))),
            Some(("2001:db8::1", Some("2001:db8::1"))),
            Some(("10.0.0.2", Some("10.0.0.2"))),
        ]
    );
    assert_eq!(out.records[2]["device_id"], out.records[4]["device_id"]);
}

/// An address field as a record writes it: IPv4 as sent (the fast path that skips the search
/// for `:`), IPv6 in its one text whatever its IPv4 tail, what is no address as sent.
#[test]
fn record_addresses_are_their_one_text_and_ipv4_is_left_alone() {
    use std::borrow::Cow;
    use wire::device::record_ip;
    for (sent, written) in [
        ("10.0.0.2", "10.0.0.2"),
        ("203.0.113.255", "203.0.113.255"),
        ("::ffff:10.0.0.2", "10.0.0.2"),
        ("::FFFF:1.2.3.4", "1.2.3.4"),
        ("1::1.2.3.4", "1::102:304"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("Unknown", "Unknown"),
        ("1.2.3.4:443", "1.2.3.4:443"),
    ] {
        assert_eq!(record_ip(Cow::Borrowed(sent)), written, "{sent}");
    }
}

//! Synthetic NSS firewall records (NSS for Firewall) in ztel's JSON feed format for the type: the
//! `zscalernss-fw` envelope, Zscaler's variable names as keys, `epochtime` for an unambiguous
//! time and the `e…` variants (%HH-encoded) where a value holds spaces. Unlike web records, each
//! carries the client's real source port and the server-side (NAT) addresses.
//!
//! Devices, users and servers are those of `WebGenerator` (same hostnames, client IPs, logins
//! and server IPs), so a run that mixes log types shows one device per machine.

use std::fmt::{self, Write as _};

use super::{options, Addr, Cardinality, Nss, Rng, Run, Who};

/// A network service as NSS names it (`nwsvc`), its IP protocol, where it goes and how often.
struct Service {
    nwsvc: &'static str,
    proto: &'static str,
    /// Server ports; 0 for ICMP, which has none.
    ports: &'static [u16],
    /// Network applications (`nwapp`) seen on it.
    apps: &'static [&'static str],
    /// Destination names (`cdfqdn`); none for traffic to bare IPs.
    names: &'static [&'static str],
    /// Fixed destinations (public resolvers, time servers); otherwise one of the run's servers.
    ips: &'static [&'static str],
    /// The rule that allows it, %HH-encoded (`erulelabel`).
    rule: &'static str,
    /// How many in 100 of its sessions the default rule drops.
    dropped: u64,
    weight: u64,
}

const WEB_NAMES: &[&str] = &[
    "www.office.com",
    "outlook.office365.com",
    "login.microsoftonline.com",
    "www.google.com",
    "github.com",
    "slack.com",
    "www.salesforce.com",
    "s3.amazonaws.com",
    "teams.microsoft.com",
    "zoom.us",
];

const SERVICES: &[Service] = &[
    Service {
        nwsvc: "HTTPS",
        proto: "TCP",
        ports: &[443],
        apps: &[
            "ssl",
            "ssl",
            "office365",
            "google",
            "slack",
            "zoom",
            "github",
            "salesforce",
        ],
        names: WEB_NAMES,
        ips: &[],
        rule: "Recommended%20Firewall%20Rule",
        dropped: 1,
        weight: 50,
    },
    Service {
        nwsvc: "HTTP",
        proto: "TCP",
        ports: &[80],
        apps: &["http", "windowsupdate", "ocsp"],
        names: &[
            "ctldl.windowsupdate.com",
            "ocsp.digicert.com",
            "www.msftconnecttest.com",
        ],
        ips: &[],
        rule: "Recommended%20Firewall%20Rule",
        dropped: 1,
        weight: 10,
    },
    // QUIC: Zscaler recommends blocking it, so that browsers fall back to TLS over TCP.
    Service {
        nwsvc: "UDP_ANY",
        proto: "UDP",
        ports: &[443],
        apps: &["quic"],
        names: &[
            "www.google.com",
            "www.youtube.com",
            "rr3---sn-4g5e6nzz.googlevideo.com",
        ],
        ips: &[],
        rule: "Block%20QUIC",
        dropped: 0,
        weight: 8,
    },
    Service {
        nwsvc: "DNS",
        proto: "UDP",
        ports: &[53],
        apps: &["dns"],
        names: &[],
        ips: &["8.8.8.8", "1.1.1.1", "8.8.4.4"],
        rule: "Allow%20DNS",
        dropped: 0,
        weight: 12,
    },
    Service {
        nwsvc: "NTP",
        proto: "UDP",
        ports: &[123],
        apps: &["ntp"],
        names: &[],
        ips: &["162.159.200.1", "20.101.57.9"],
        rule: "Allow%20NTP",
        dropped: 0,
        weight: 3,
    },
    Service {
        nwsvc: "TCP_ANY",
        proto: "TCP",
        ports: &[8080, 8443, 5228, 9000],
        apps: &["tcp", "google"],
        names: &["mtalk.google.com", "portal.partner.example.net"],
        ips: &[],
        rule: "Recommended%20Firewall%20Rule",
        dropped: 20,
        weight: 6,
    },
    Service {
        nwsvc: "SSH",
        proto: "TCP",
        ports: &[22],
        apps: &["ssh"],
        names: &[],
        ips: &[],
        rule: "Admin%20Access",
        dropped: 30,
        weight: 3,
    },
    Service {
        nwsvc: "RDP",
        proto: "TCP",
        ports: &[3389],
        apps: &["rdp"],
        names: &[],
        ips: &[],
        rule: "Admin%20Access",
        dropped: 40,
        weight: 2,
    },
    Service {
        nwsvc: "SMTP",
        proto: "TCP",
        ports: &[587, 25],
        apps: &["smtp"],
        names: &["smtp.office365.com"],
        ips: &[],
        rule: "Recommended%20Firewall%20Rule",
        dropped: 10,
        weight: 2,
    },
    Service {
        nwsvc: "ICMP_ANY",
        proto: "ICMP",
        ports: &[0],
        apps: &["icmp"],
        names: &[],
        ips: &[],
        rule: "Allow%20ICMP",
        dropped: 5,
        weight: 4,
    },
];

/// (threat category, threat name) of the sessions the IPS blocks.
const THREATS: &[(&str, &str)] = &[
    ("Botnet Callback", "Win32.Backdoor.Emotet"),
    ("Denial of Service Attack", "Linux.Backdoor.Tsunami"),
    ("Command and Control", "Win64.Trojan.CobaltStrike"),
    ("Exploit", "CVE-2021-44228.Log4Shell"),
];
const IP_CATEGORIES: &[&str] = &[
    "Internet Services",
    "Professional Services",
    "Web Search",
    "Online Chat",
    "Corporate Marketing",
    "Miscellaneous or Unknown",
];
const COUNTRIES: &[&str] = &[
    "United States",
    "Ireland",
    "Germany",
    "France",
    "Netherlands",
];

/// Writes NSS firewall records, one per call, into a caller's buffer.
pub struct FirewallGenerator {
    run: Run,
    nss: Nss,
}

impl FirewallGenerator {
    pub fn new(seed: u64, cardinality: Cardinality) -> Self {
        FirewallGenerator {
            run: Run::new(seed ^ 0xF14E_3A11, cardinality),
            nss: Nss::new(7_310_000_000_000_000_000, seed),
        }
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        let (head, r) = self.nss.next(&mut self.run);
        let svc = pick_service(r);
        let port = svc.ports[r.below(svc.ports.len() as u64) as usize];
        let app = r.pick(svc.apps);
        let icmp = port == 0;
        // Windows picks client ports from the dynamic range; ICMP has none.
        let csport = if icmp { 0 } else { 49_152 + r.below(16_384) };
        let ssport = if icmp { 0 } else { 1024 + r.below(64_512) };
        let roll = r.below(100);
        let (action, rule, threat) = if svc.nwsvc == "UDP_ANY" {
            // Until the first packets show the application, the session is let through.
            let action = if roll < 80 {
                "Block"
            } else {
                "Allow due to insufficient app data"
            };
            (action, svc.rule, None)
        } else if roll < 2 {
            let t = THREATS[r.below(THREATS.len() as u64) as usize];
            ("Block", svc.rule, Some(t))
        } else if roll < 2 + svc.dropped {
            ("Drop", "Default%20Firewall%20Filtering%20Rule", None)
        } else {
            ("Allow", svc.rule, None)
        };
        let allowed = action.starts_with("Allow");
        let (outbytes, inbytes, duration) = volume(r, svc, allowed);
        let sessions = if allowed && svc.proto != "TCP" && r.below(4) == 0 {
            2 + r.below(30)
        } else {
            1
        };
        let fqdn = if svc.names.is_empty() {
            "None"
        } else {
            r.pick(svc.names)
        };
        let ipcat = if svc.names.is_empty() {
            "Miscellaneous or Unknown"
        } else {
            r.pick(IP_CATEGORIES)
        };
        let country = r.pick(COUNTRIES);
        let Who { device, ip, .. } = head.who;
        let (_, ttype) = head.who.site();
        let server = head.server;
        // The same destination on the client side and the server side: no DNAT.
        let dst = if svc.ips.is_empty() {
            Dst::Server(Addr::Server(server))
        } else {
            Dst::Fixed(svc.ips[(server % svc.ips.len() as u64) as usize])
        };
        head.write_json_start("zscalernss-fw", out);
        let _ = write!(
            out,
            r#""csip":"{cip}","csport":"{csport}","cdip":"{dst}","cdport":"{port}","cdfqdn":"{fqdn}","ssip":"165.225.{dc}.{egress}","ssport":"{ssport}","sdip":"{dst}","#,
            cip = Addr::Client(ip),
            dc = 72 + device % 4,
            egress = 11 + device % 6,
        );
        let (threat_category, threat_name) = threat.unwrap_or(("None", "None"));
        let ips_rule = if threat.is_some() {
            "Default IPS Rule"
        } else {
            "None"
        };
        let _ = writeln!(
            out,
            r#""sdport":"{port}","tsip":"{tsip}","ttype":"{ttype}","ipproto":"{proto}","nwsvc":"{nwsvc}","nwapp":"{app}","action":"{action}","erulelabel":"{rule}","ipsrulelabel":"{ips_rule}","threatcat":"{threat_category}","threatname":"{threat_name}","ipcat":"{ipcat}","destcountry":"{country}","outbytes":"{outbytes}","inbytes":"{inbytes}","durationms":"{duration}","numsessions":"{sessions}","avgduration":"{avg}","aggregate":"{aggregate}","stateful":"Yes","dnat":"No"}}}}"#,
            tsip = Addr::Public(device),
            proto = svc.proto,
            nwsvc = svc.nwsvc,
            avg = duration / sessions,
            aggregate = if sessions > 1 { "Yes" } else { "No" },
        );
    }
}

options!(FirewallGenerator, 1000);

/// A session's destination IP.
enum Dst {
    Server(Addr),
    Fixed(&'static str),
}

impl fmt::Display for Dst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dst::Server(ip) => ip.fmt(f),
            Dst::Fixed(ip) => f.write_str(ip),
        }
    }
}

fn pick_service(r: &mut Rng) -> &'static Service {
    let total: u64 = SERVICES.iter().map(|s| s.weight).sum();
    let mut at = r.below(total);
    for s in SERVICES {
        if at < s.weight {
            return s;
        }
        at -= s.weight;
    }
    &SERVICES[0]
}

/// Bytes from the client, bytes to it and the duration in ms of a session of `svc`. A refused
/// session carries its first packet or two and nothing back.
fn volume(r: &mut Rng, svc: &Service, allowed: bool) -> (u64, u64, u64) {
    if !allowed {
        return (60 + r.below(200), 0, 0);
    }
    match svc.nwsvc {
        "DNS" => (60 + r.below(60), 80 + r.below(400), 1 + r.below(80)),
        "NTP" => (76, 76, 10 + r.below(40)),
        "ICMP_ANY" => (64 + r.below(1000), 64 + r.below(1000), r.below(2000)),
        "SSH" | "RDP" => (
            5_000 + r.below(2_000_000),
            20_000 + r.below(20_000_000),
            60_000 + r.below(3_600_000),
        ),
        _ => (
            500 + r.below(50_000),
            1_000 + r.below(2_000_000),
            50 + r.below(300_000),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(seed: u64, n: usize) -> String {
        FirewallGenerator::new(seed, Cardinality::default()).lines(n)
    }

    #[test]
    fn lines_are_json_records_of_a_real_size() {
        let text = lines(1, 2000);
        assert_eq!(text.lines().count(), 2000);
        let avg = text.len() / 2000;
        assert!((750..1200).contains(&avg), "{avg} bytes per line");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["sourcetype"], "zscalernss-fw");
            let e = &v["event"];
            for key in [
                "csip", "csport", "cdip", "cdport", "ssip", "ssport", "ipproto",
            ] {
                assert!(e[key].is_string(), "{key} in {line}");
            }
            assert_eq!(e["cdip"], e["sdip"]);
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(lines(7, 300), lines(7, 300));
        assert_ne!(lines(7, 300), lines(8, 300));
    }

    #[test]
    fn values_spread_like_a_real_feed() {
        let text = lines(3, 5000);
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].clone())
            .collect();
        let distinct = |key: &str| {
            let set: std::collections::BTreeSet<String> =
                events.iter().map(|e| e[key].to_string()).collect();
            set.len()
        };
        assert_eq!(distinct("ipproto"), 3, "TCP, UDP and ICMP");
        assert!(distinct("nwsvc") >= 8);
        assert!(distinct("cdport") >= 8);
        assert!(distinct("action") >= 4);
        assert!(distinct("erulelabel") >= 5);
        assert!(distinct("csport") > 3000, "client ports are ephemeral");
        let allowed = events.iter().filter(|e| e["action"] == "Allow").count();
        assert!((3500..4700).contains(&allowed), "{allowed} allowed");
        // ICMP has no ports.
        for e in events.iter().filter(|e| e["ipproto"] == "ICMP") {
            assert_eq!((&e["csport"], &e["cdport"]), (&"0".into(), &"0".into()));
        }
    }

    #[test]
    fn cardinality_is_respected() {
        let small = Cardinality {
            devices: 7,
            users: 5,
            servers: 3,
        };
        let text = FirewallGenerator::new(1, small).lines(2000);
        let mut hosts = std::collections::BTreeSet::new();
        let mut users = std::collections::BTreeSet::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            hosts.insert(v["event"]["devicehostname"].as_str().unwrap().to_string());
            users.insert(v["event"]["elogin"].as_str().unwrap().to_string());
        }
        assert_eq!(hosts.len(), 7);
        assert_eq!(users.len(), 5);
        assert!(hosts.contains("LAPTOP-000006"));
    }
}

//! Synthetic NSS DNS records (NSS for Firewall, log type DNS) in ztel's JSON feed format for the
//! type: the `zscalernss-dns` envelope, Zscaler's variable names as keys (`req`, `reqtype`,
//! `res`, `restype`, `sport`, `istcp`, …), `epochtime`, and the `e…` variants where a value holds
//! spaces.
//!
//! Devices and users are those of `WebGenerator`; the run's servers are the names asked for, and
//! an A record's answer is the IP that web and firewall records give the same server.

use std::fmt::{self, Write as _};

use super::{options, Addr, Cardinality, Nss, Run};

/// (registered domain, its category, the DNS application NSS names, that application's class).
const DOMAINS: &[(&str, &str, &str, &str)] = &[
    (
        "office365.com",
        "Professional Services",
        "Microsoft 365",
        "Business",
    ),
    (
        "microsoftonline.com",
        "Professional Services",
        "Microsoft 365",
        "Business",
    ),
    (
        "windowsupdate.com",
        "Internet Services",
        "Windows Update",
        "Network Service",
    ),
    (
        "googleapis.com",
        "Internet Services",
        "Google",
        "Network Service",
    ),
    (
        "gstatic.com",
        "Internet Services",
        "Google",
        "Network Service",
    ),
    ("google.com", "Web Search", "Google", "Web Search"),
    ("github.com", "Professional Services", "GitHub", "Business"),
    ("slack-edge.com", "Online Chat", "Slack", "Collaboration"),
    ("zoom.us", "Online Chat", "Zoom", "Collaboration"),
    (
        "salesforce.com",
        "Professional Services",
        "Salesforce",
        "Business",
    ),
    (
        "amazonaws.com",
        "Internet Services",
        "Amazon Web Services",
        "Network Service",
    ),
    (
        "akamaiedge.net",
        "Internet Services",
        "Akamai",
        "Network Service",
    ),
    (
        "cloudfront.net",
        "Internet Services",
        "Amazon CloudFront",
        "Network Service",
    ),
    (
        "linkedin.com",
        "Social Networking",
        "LinkedIn",
        "Social Networking",
    ),
    (
        "youtube.com",
        "Streaming Media",
        "YouTube",
        "Streaming Media",
    ),
    (
        "doubleclick.net",
        "Web Banners",
        "Google Ads",
        "Advertising",
    ),
];
/// Host labels before a domain; a server's name is `label-N.domain` or the domain itself.
const LABELS: &[&str] = &["www", "api", "edge", "cdn", "login", "static", "s", "img"];
/// Query types as NSS writes them, as often as clients ask them.
const TYPES: &[&str] = &[
    "A record",
    "A record",
    "A record",
    "A record",
    "A record",
    "A record",
    "AAAA record",
    "AAAA record",
    "AAAA record",
    "HTTPS record",
    "HTTPS record",
    "PTR record",
    "SRV record",
    "TXT record",
    "MX record",
    "CNAME record",
];
/// Resolvers the clients ask: the corporate one mostly, public ones, Zscaler's Trusted Resolver.
const RESOLVERS: &[&str] = &[
    "10.0.0.53",
    "10.0.0.53",
    "10.0.0.53",
    "10.0.1.53",
    "8.8.8.8",
    "1.1.1.1",
    "185.46.212.88",
];
const BLOCKED_CATEGORIES: &[&str] = &[
    "Malicious Content",
    "Phishing",
    "Spyware/Adware",
    "Botnet Callback",
];
const ALLOW_RULES: &[&str] = &[
    "Default Firewall DNS Rule",
    "Default Firewall DNS Rule",
    "Default Firewall DNS Rule",
    "Allow Corporate Domains",
    "DNS_1",
];

/// Writes NSS DNS records, one per call, into a caller's buffer.
pub struct DnsGenerator {
    run: Run,
    nss: Nss,
}

impl DnsGenerator {
    pub fn new(seed: u64, cardinality: Cardinality) -> Self {
        DnsGenerator {
            run: Run::new(seed ^ 0xD15D_0053, cardinality),
            nss: Nss::new(7_320_000_000_000_000_000, seed),
        }
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        let (head, r) = self.nss.next(&mut self.run);
        let server = head.server;
        let name = Name(server);
        let (_, category, app, app_class) = name.domain();
        let qtype = r.pick(TYPES);
        // Most lookups go over UDP; long answers over TCP; some clients use DNS over HTTPS.
        let (protocol, istcp, sport, resolver) = match r.below(20) {
            0 => ("TCP", 1, 53, r.pick(RESOLVERS)),
            1 => ("DoH", 1, 443, r.pick(&["8.8.8.8", "1.1.1.1"])),
            _ => ("UDP", 0, 53, r.pick(RESOLVERS)),
        };
        let blocked = r.below(40) == 0;
        let rcode = r.below(100);
        head.write_json_start("zscalernss-dns", out);
        let _ = write!(
            out,
            r#""cip":"{cip}","sip":"{resolver}","sport":"{sport}","protocol":"{protocol}","istcp":"{istcp}","req":"{name}","reqtype":"{qtype}","res":""#,
            cip = Addr::Client(head.who.ip),
        );
        let (restype, error, resaction, rule, domcat) = if blocked {
            // A blocked request gets no answer from upstream.
            out.push_str("None");
            let category = r.pick(BLOCKED_CATEGORIES);
            ("None", "None", "None", "Block Malicious Domains", category)
        } else if rcode < 6 {
            out.push_str("NXDOMAIN");
            (
                "SRV_CODE",
                "NXDOMAIN",
                "Allow",
                r.pick(ALLOW_RULES),
                category,
            )
        } else if rcode < 9 {
            out.push_str("EMPTY_RESP");
            (
                "SRV_CODE",
                "EMPTY_RESP",
                "Allow",
                r.pick(ALLOW_RULES),
                category,
            )
        } else if rcode < 10 {
            out.push_str("SERVFAIL");
            (
                "SRV_CODE",
                "SERVFAIL",
                "Allow",
                r.pick(ALLOW_RULES),
                category,
            )
        } else {
            let restype = match qtype {
                "A record" => {
                    let _ = write!(out, "{}", Addr::Server(server));
                    "IPv4"
                }
                "AAAA record" => {
                    let _ = write!(
                        out,
                        "2606:4700:{:x}:{:x}::10",
                        server / 65536 % 65536,
                        server % 65536
                    );
                    "IPv6"
                }
                // Names: the canonical name behind a CDN, a service's host, a reverse name.
                _ => {
                    let _ = write!(out, "edge-{name}.cdn.example.net");
                    "NAME"
                }
            };
            (restype, "None", "Allow", r.pick(ALLOW_RULES), category)
        };
        let (reqaction, resrule) = if blocked {
            ("Block", "None")
        } else {
            ("Allow", "Default Firewall DNS Rule")
        };
        // Answers from the resolver's cache take no time.
        let duration = if r.below(3) == 0 { 0 } else { 1 + r.below(120) };
        let _ = writeln!(
            out,
            r#"","restype":"{restype}","error":"{error}","reqaction":"{reqaction}","resaction":"{resaction}","reqrulelabel":"{rule}","resrulelabel":"{resrule}","domcat":"{domcat}","respipcat":"{category}","dnsapp":"{app}","dnsappcat":"{app_class}","durationms":"{duration}"}}}}"#,
        );
    }
}

options!(DnsGenerator, 900);

/// Server `n`'s name: a third of them a registered domain, the rest a host under one.
struct Name(u64);

impl Name {
    fn domain(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        DOMAINS[(self.0 % DOMAINS.len() as u64) as usize]
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let domain = self.domain().0;
        if n % 3 == 0 {
            return f.write_str(domain);
        }
        let label = LABELS[(n / DOMAINS.len() as u64 % LABELS.len() as u64) as usize];
        write!(f, "{label}-{}.{domain}", n / 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(seed: u64, cardinality: Cardinality, n: usize) -> (String, Vec<serde_json::Value>) {
        let text = DnsGenerator::new(seed, cardinality).lines(n);
        let events = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(v["sourcetype"], "zscalernss-dns", "{l}");
                v["event"].clone()
            })
            .collect();
        (text, events)
    }

    #[test]
    fn lines_are_json_records_of_a_real_size() {
        let (text, events) = events(1, Cardinality::default(), 2000);
        assert_eq!(events.len(), 2000);
        let avg = text.len() / 2000;
        assert!((600..1000).contains(&avg), "{avg} bytes per line");
        for e in &events {
            for key in ["cip", "sip", "sport", "req", "reqtype", "res", "reqaction"] {
                assert!(e[key].is_string(), "{key} in {e}");
            }
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let c = Cardinality::default();
        assert_eq!(events(5, c, 300).0, events(5, c, 300).0);
        assert_ne!(events(5, c, 300).0, events(6, c, 300).0);
    }

    #[test]
    fn values_spread_like_a_real_feed() {
        let (_, events) = events(2, Cardinality::default(), 5000);
        let count = |key: &str, value: &str| events.iter().filter(|e| e[key] == value).count();
        let distinct = |key: &str| {
            let set: std::collections::BTreeSet<String> =
                events.iter().map(|e| e[key].to_string()).collect();
            set.len()
        };
        assert_eq!(distinct("reqtype"), 8);
        assert_eq!(distinct("protocol"), 3);
        assert!(
            distinct("error") >= 4,
            "NXDOMAIN, EMPTY_RESP, SERVFAIL, None"
        );
        assert!(distinct("restype") >= 5);
        assert!((1500..2300).contains(&count("reqtype", "A record")));
        assert!((4000..4800).contains(&count("protocol", "UDP")));
        assert!((50..250).contains(&count("reqaction", "Block")));
        assert!((150..450).contains(&count("error", "NXDOMAIN")));
        // An A record's answer is an IPv4 address, an AAAA record's an IPv6 one.
        for e in events.iter().filter(|e| e["restype"] == "IPv4") {
            let res = e["res"].as_str().unwrap();
            assert!(res.parse::<std::net::Ipv4Addr>().is_ok(), "{res}");
            assert_eq!(e["reqtype"], "A record");
        }
        for e in events.iter().filter(|e| e["restype"] == "IPv6") {
            let res = e["res"].as_str().unwrap();
            assert!(res.parse::<std::net::Ipv6Addr>().is_ok(), "{res}");
        }
        for e in events.iter().filter(|e| e["protocol"] != "UDP") {
            assert_eq!(e["istcp"], "1");
        }
    }

    #[test]
    fn cardinality_is_respected() {
        let small = Cardinality {
            devices: 4,
            users: 3,
            servers: 11,
        };
        let (_, events) = events(1, small, 3000);
        let distinct = |key: &str| {
            let set: std::collections::BTreeSet<String> =
                events.iter().map(|e| e[key].to_string()).collect();
            set.len()
        };
        assert_eq!(distinct("devicehostname"), 4);
        assert_eq!(distinct("cip"), 4);
        assert_eq!(distinct("elogin"), 3);
        assert_eq!(distinct("req"), 11);
    }
}

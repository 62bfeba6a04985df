//! `ztel feed-format`: the feed templates to paste into the Zscaler portals, and how to set up
//! the feed around them (DESIGN §2.1). Each text ends with the template alone on its last line,
//! so that `tail -n 1` gives exactly what to paste.

pub mod lss;
pub mod nss;

use clap::ValueEnum;

use crate::config::{Address, Config};

/// The log types of DESIGN §3.1, as `ztel feed-format` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogType {
    /// ZIA Web Log (NSS for Web).
    ZiaWeb,
    /// ZIA Firewall Logs (NSS for Firewall).
    ZiaFirewall,
    /// ZIA DNS Logs (NSS for Firewall).
    ZiaDns,
    /// ZIA Tunnel (IKE phase 1 and 2, tunnel events).
    ZiaTunnel,
    /// ZIA Admin Audit.
    ZiaAudit,
    /// ZIA SaaS Security.
    ZiaSaas,
    /// ZIA SaaS Security Activity.
    ZiaSaasActivity,
    /// ZPA User Activity (LSS).
    ZpaUserActivity,
    /// ZPA User Status (LSS).
    ZpaUserStatus,
    /// ZPA Browser Access (LSS).
    ZpaBrowserAccess,
    /// ZPA App Connector Status (LSS).
    ZpaAppConnectorStatus,
    /// ZPA Audit Logs (LSS).
    ZpaAudit,
}

impl LogType {
    /// The portal's name of the log type, and the NSS type (ZIA) its feed is created under.
    fn portal(self) -> (&'static str, &'static str) {
        match self {
            LogType::ZiaWeb => ("Web Log", "NSS for Web"),
            LogType::ZiaFirewall => ("Firewall Logs", "NSS for Firewall"),
            LogType::ZiaDns => ("DNS Logs", "NSS for Firewall"),
            LogType::ZiaTunnel => ("Tunnel", "NSS for Web"),
            LogType::ZiaAudit => ("Admin Audit", "NSS for Web"),
            LogType::ZiaSaas => ("SaaS Security", "NSS for Web"),
            LogType::ZiaSaasActivity => ("SaaS Security Activity", "NSS for Web"),
            LogType::ZpaUserActivity => ("User Activity", ""),
            LogType::ZpaUserStatus => ("User Status", ""),
            LogType::ZpaBrowserAccess => ("Browser Access", ""),
            LogType::ZpaAppConnectorStatus => ("App Connector Status", ""),
            LogType::ZpaAudit => ("Audit Logs", ""),
        }
    }

    /// The name on the command line.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// The feed's template: the NSS Feed Output Format (ZIA) or LSS Log Stream Content (ZPA).
    pub fn template(self) -> String {
        match self {
            LogType::ZiaWeb => nss::WEB.format(),
            LogType::ZiaFirewall => nss::FIREWALL.format(),
            LogType::ZiaDns => nss::DNS.format(),
            LogType::ZiaTunnel => nss::TUNNEL.format(),
            LogType::ZiaAudit => nss::AUDIT.format(),
            LogType::ZiaSaas => nss::SAAS.format(),
            LogType::ZiaSaasActivity => nss::SAAS_ACTIVITY.format(),
            LogType::ZpaUserActivity => lss::format(lss::USER_ACTIVITY),
            LogType::ZpaUserStatus => lss::format(lss::USER_STATUS),
            LogType::ZpaBrowserAccess => lss::format(lss::BROWSER_ACCESS),
            LogType::ZpaAppConnectorStatus => lss::format(lss::APP_CONNECTOR_STATUS),
            LogType::ZpaAudit => lss::format(lss::AUDIT),
        }
    }

    fn is_zpa(self) -> bool {
        self.name().starts_with("zpa-")
    }
}

/// What `ztel feed-format` alone prints: the log types.
pub fn list() -> String {
    let mut out = String::from(
        "Log types (ztel feed-format LOGTYPE prints the feed template and its settings;\n\
         add --cloud for a ZIA Cloud NSS feed):\n",
    );
    for t in LogType::value_variants() {
        let (portal, _) = t.portal();
        let family = if t.is_zpa() { "ZPA" } else { "ZIA" };
        out.push_str(&format!("  {:<26} {family} {portal}\n", t.name()));
    }
    out
}

/// Where a device comes from in ZIA logs, and what happens without it.
const DEVICE_PREREQUISITES: &str = "\
# Before you start, in the Zscaler Client Connector Portal (Administration > Client Connector
#   Support > User Privacy), enable both
#     Collect Device Owner Information
#     Collect Machine Hostname Information
#   Without them NSS leaves deviceowner and devicehostname empty, and ztel keys the devices of
#   these records by client IP instead of by machine.
";

/// The ports a feed is sent to, as the portal asks for them: those of the config's inputs
/// (the defaults without `--config`), or what to set where an input is off.
pub struct Ports {
    tcp: String,
    tls: String,
    http: String,
}

impl Ports {
    pub fn of(config: &Config) -> Ports {
        // Said in place of the number, without parentheses: the text after it has its own.
        let port = |address: Address, key: &str| match address.get() {
            Some(address) if address.port() == 0 => {
                format!(
                    "none: {key} has port 0, which the system picks anew at each start; set one"
                )
            }
            Some(address) => address.port().to_string(),
            None => format!("none: {key} is off in this config; set it"),
        };
        let input = &config.input;
        Ports {
            tcp: port(input.tcp.address, "input.tcp.address"),
            tls: port(input.tls.address, "input.tls.address"),
            // Cloud NSS posts over HTTPS only: a plain or an absent input has no port to give.
            http: match input.http.address.get().filter(|_| input.http.is_https()) {
                Some(address) if address.port() != 0 => address.port().to_string(),
                _ => "PORT".into(),
            },
        }
    }
}

/// What `ztel feed-format LOGTYPE` prints for an NSS (TCP) feed or an LSS log receiver.
pub fn text(log_type: LogType, ports: &Ports) -> String {
    let Ports { tcp, tls, .. } = ports;
    let template = log_type.template();
    let (portal, nss_type) = log_type.portal();
    if log_type.is_zpa() {
        return format!(
            "# ZPA Admin Portal > Configuration & Control > Private Infrastructure > Log Streaming\n\
             #   Service > Add Log Receiver\n\
             #   Log Receiver (Domain or IP Address): this collector's address; TCP Port {tcp}\n\
             #   (ztel's input.tcp.address), or {tls} with TLS Encryption enabled (ztel's input.tls\n\
             #   with cert and key; set client_ca for mutual TLS). Log Stream: Log Type: {portal},\n\
             #   Log Template: JSON, Log Stream Content: the last line below, exactly as printed.\n\
             {template}\n"
        );
    }
    let ports = if log_type == LogType::ZiaWeb {
        format!(
            "# Optional: if Zscaler Support has enabled the client source and server destination ports,\n\
             # insert\n\
             #   {}\n\
             # just before the closing \\}}\\}} so that records carry the real ports; without them the\n\
             # client port is the simulated 18000 and the server port comes from the URL or protocol.\n",
            nss::WEB_PORTS
        )
    } else {
        String::new()
    };
    format!(
        "{DEVICE_PREREQUISITES}\
         # ZIA Admin Portal > Administration > Nanolog Streaming Service > NSS Feeds > Add NSS Feed\n\
         #   NSS Type: {nss_type}; SIEM Destination Type: IP Address or FQDN of this collector,\n\
         #   SIEM TCP Port: {tcp} (ztel's input.tcp.address); SIEM Rate: Unlimited; Log Type: {portal}\n\
         #   Feed Output Type: Custom\n\
         #   Feed Escape Character: ,\\\"   (comma, backslash, double quote: NSS hex-encodes them)\n\
         #   Timezone: GMT, or set feed_timezone (global or [input.tcp]) to the feed's zone; in a\n\
         #   local zone the hour the clock turns back is read as its first (summer time)\n\
         #   Feed Output Format: the last line below, exactly as printed.\n\
         {ports}\
         {template}\n"
    )
}

/// What `ztel feed-format LOGTYPE --cloud` prints: a ZIA Cloud NSS feed (HTTPS to ztel's
/// input.http). ZPA has no Cloud NSS: `None`.
pub fn cloud_text(log_type: LogType, ports: &Ports) -> Option<String> {
    if log_type.is_zpa() {
        return None;
    }
    let http = &ports.http;
    let template = log_type.template();
    let (portal, nss_type) = log_type.portal();
    Some(format!(
        "{DEVICE_PREREQUISITES}\
         # ZIA Admin Portal > Administration > Nanolog Streaming Service > Cloud NSS Feeds >\n\
         #   Add Cloud NSS Feed; NSS Type: {nss_type}; SIEM Type: Other; OAuth 2.0: off.\n\
         #   API URL: https://HOST:{http}/ of this collector's input.http.address (any path and query\n\
         #   is accepted, e.g. https://collector.example.com:8443/nss/web?src=zia).\n\
         #   Add HTTP Header: the name of input.http.header (default X-Ztel-Key), value one of\n\
         #   input.http.keys.\n\
         #   Max Batch Size: at most 64 x limits.max_frame_bytes (16 MiB by default); 512 KB is plenty.\n\
         #   HTTP Compression (Content-Encoding: gzip) may be on: ztel inflates bodies within that limit.\n\
         #   The certificate (input.http.cert) must chain to a public CA that Zscaler's cloud\n\
         #   trusts: a private CA or a self-signed certificate fails the connectivity test.\n\
         #   The port must be reachable from Zscaler's cloud egress ranges (see\n\
         #   https://config.zscaler.com for your cloud), and those ranges go in\n\
         #   input.http.allowed_ips: every other peer is refused.\n\
         # Formatting: Log Type: {portal}; Feed Output Type: JSON, with or without JSON Array\n\
         #   Notation (ztel reads both; a feed already set to Name Value Pairs or a SIEM's\n\
         #   preset is read too, a record a line, and Tab-separated in Zscaler's default field\n\
         #   order or [formats]'s); Feed Escape Character: ,\\\";\n\
         #   Timezone: GMT (or set [input.http] feed_timezone to the feed's zone).\n\
         #   Feed Output Format: Zscaler's default JSON works; ztel's recommendation is the last line.\n\
         {template}\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Ports {
        Ports::of(&Config::default())
    }

    /// The portal's port fields are the config's: the defaults without one, its own with one,
    /// and what to set where an input is off.
    #[test]
    fn the_ports_are_the_configs() {
        let nss = text(LogType::ZiaWeb, &defaults());
        assert!(
            nss.contains("SIEM TCP Port: 1514 (ztel's input.tcp.address)"),
            "{nss}"
        );
        let lss = text(LogType::ZpaUserActivity, &defaults());
        assert!(
            lss.contains("TCP Port 1514\n#   (ztel's input.tcp.address), or 6514"),
            "{lss}"
        );
        let cloud = cloud_text(LogType::ZiaDns, &defaults()).unwrap_or_default();
        assert!(cloud.contains("https://HOST:PORT/"), "{cloud}");
        let mine = Config::from_toml(
            "[input.tcp]\naddress = \"0.0.0.0:5514\"\n[input.tls]\naddress = \"\"\n\
             [input.http]\naddress = \"0.0.0.0:8443\"\nplain = true\n",
        )
        .expect("config");
        let nss = text(LogType::ZiaFirewall, &Ports::of(&mine));
        assert!(
            nss.contains("SIEM TCP Port: 5514 (ztel's input.tcp.address)"),
            "{nss}"
        );
        let lss = text(LogType::ZpaAudit, &Ports::of(&mine));
        assert!(
            lss.contains("or none: input.tls.address is off in this config; set it with TLS"),
            "{lss}"
        );
        // Port 0 is no port to paste in the portal (nor in a Cloud NSS URL).
        let https = Config::from_toml(
            "[input.http]\naddress = \"127.0.0.1:0\"\ncert = \"a.pem\"\nkey = \"b.pem\"\n",
        )
        .expect("config");
        let cloud = cloud_text(LogType::ZiaWeb, &Ports::of(&https)).unwrap_or_default();
        assert!(cloud.contains("https://HOST:PORT/"), "{cloud}");
        let any = Config::from_toml("[input.tcp]\naddress = \"127.0.0.1:0\"\n").expect("config");
        let nss = text(LogType::ZiaWeb, &Ports::of(&any));
        assert!(
            nss.contains("SIEM TCP Port: none: input.tcp.address has port 0,"),
            "{nss}"
        );
        // Plain HTTP is no Cloud NSS's: no port to give.
        let cloud = cloud_text(LogType::ZiaWeb, &Ports::of(&mine)).unwrap_or_default();
        assert!(cloud.contains("https://HOST:PORT/"), "{cloud}");
    }

    #[test]
    fn every_type_is_listed_and_ends_with_its_template() {
        let list = list();
        for t in LogType::value_variants() {
            assert!(list.contains(&t.name()), "{list}");
            let text = text(*t, &defaults());
            assert_eq!(
                text.lines().last(),
                Some(t.template().as_str()),
                "{}",
                t.name()
            );
            if let Some(cloud) = cloud_text(*t, &defaults()) {
                assert_eq!(cloud.lines().last(), Some(t.template().as_str()));
                assert!(cloud.contains("allowed_ips") && cloud.contains("gzip"));
            }
        }
        assert_eq!(LogType::value_variants().len(), 12);
        assert!(cloud_text(LogType::ZpaAudit, &defaults()).is_none());
    }

    #[test]
    fn zia_texts_name_the_portal_prerequisites_and_the_collector() {
        for t in LogType::value_variants().iter().filter(|t| !t.is_zpa()) {
            let text = text(*t, &defaults());
            assert!(text.contains("Collect Device Owner Information"), "{text}");
            assert!(
                text.contains("Collect Machine Hostname Information"),
                "{text}"
            );
            assert!(text.contains("this collector"), "{text}");
        }
    }
}

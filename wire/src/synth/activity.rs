//! Synthetic LSS User Activity records: connections that open, stay active and close.

use std::fmt::Write as _;

use super::churn::Identity;
use super::{options, write_iso, Addr, Cardinality, Hostname, Run, Stamp, User, NSS_EPOCH};

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
    /// The device's user and address when the connection opened, kept to its close.
    who: Identity,
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
/// (bytes so far) and `close` (with its end time), interleaved with other connections. Without
/// churn a device always belongs to the same user and session and keeps its address, so
/// attribution and the device registry see a stable picture; with it, a connection keeps the
/// user and address its device had when it opened. One record in 200 reports a connection of the LSS client itself
/// ("ZPA LSS Client", no hostname), which a collector must accept without making it a device.
pub struct ActivityGenerator {
    run: Run,
    /// A salt from the seed, so that runs with different seeds never share a ConnectionID.
    salt: u64,
    /// The time of the record being written, in milliseconds since the epoch.
    now_ms: u64,
    live: Vec<Option<Live>>,
    next_conn: u64,
}

impl ActivityGenerator {
    pub fn new(seed: u64, cardinality: Cardinality) -> Self {
        ActivityGenerator {
            run: Run::new(seed ^ 0x5A50_4100, cardinality),
            salt: mix(seed),
            now_ms: NSS_EPOCH * 1000,
            live: vec![None; LIVE_SLOTS as usize],
            next_conn: 0,
        }
    }

    /// Appends one record and its LF.
    pub fn write(&mut self, out: &mut String) {
        let run = &mut self.run;
        self.now_ms = run.clock.next(self.now_ms, 1000, 4, &mut run.rng);
        if run.rng.below(200) == 0 {
            self.write_lss_client(out);
            return;
        }
        let slot = run.rng.below(LIVE_SLOTS) as usize;
        let c = match self.live[slot] {
            Some(mut c) => {
                c.records += 1;
                // Every record counts towards the device's next change; the connection keeps
                // the user and address it opened with.
                let _ = run.churn.next(c.device, &run.cardinality);
                c
            }
            None => {
                self.next_conn += 1;
                let device = run.rng.below(run.cardinality.devices);
                Live {
                    device,
                    who: run.churn.next(device, &run.cardinality),
                    server: run.rng.below(run.cardinality.servers),
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
            1 => (60 + run.rng.below(1500), 0),
            _ => (run.rng.below(20_000), run.rng.below(400_000)),
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
        let r = &mut self.run.rng;
        let d = c.device;
        let Identity {
            user, ip, sign_ins, ..
        } = c.who;
        // A new sign-in is a new session.
        let session = d.wrapping_add(sign_ins.wrapping_mul(self.run.cardinality.devices.max(1)));
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
        let _ = write!(
            out,
            r#"{{"LogTimestamp": "{}","Customer": "Example Corp","SessionID": ""#,
            Stamp::Ctime(self.now_ms / 1000)
        );
        push_id(out, mix(session ^ self.salt));
        out.push_str(r#"","ConnectionID": ""#);
        push_id(out, mix(session ^ self.salt));
        out.push(',');
        push_id(out, mix(c.conn.wrapping_add(self.salt)));
        let _ = write!(
            out,
            r#"","InternalReason": "{reason}","ConnectionStatus": "{status}","IPProtocol": {proto},"DoubleEncryption": 0,"Username": "{login}","ServicePort": {port},"ClientPublicIP": "{public_ip}","ClientPrivateIP": "{private_ip}","ClientLatitude": {lat},"ClientLongitude": {lon},"ClientCountryCode": "{country}","ClientZEN": "{zen}","Policy": "Allow {group}","Connector": "dc{dc}-connector-{connector}","ConnectorZEN": "{connector_zen}","ConnectorIP": "10.0.{connector}.5","ConnectorPort": {connector_port},"Host": "{prefix}{s:04}.corp.example.com","Application": "{app}","AppGroup": "{group}","Server": "0","ServerIP": "10.{sa}.{sb}.{sc}","ServerPort": {port},"PolicyProcessingTime": {policy_ms},"CAProcessingTime": {ca_us},"ConnectorZENSetupTime": {zen_setup},"ConnectionSetupTime": {setup_us},"ServerSetupTime": {server_setup_us},"AppLearnTime": 0,"TimestampConnectionStart": ""#,
            login = User::Login(user),
            public_ip = Addr::Public(d),
            private_ip = Addr::Client(ip),
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
            r#"","ZENTotalBytesRxClient": {rx_total},"ZENBytesRxClient": {rx},"ZENTotalBytesTxClient": {tx_total},"ZENBytesTxClient": {tx},"ZENTotalBytesRxConnector": {tx_total},"ZENBytesRxConnector": {tx},"ZENTotalBytesTxConnector": {rx_total},"ZENBytesTxConnector": {rx},"Idp": "Corp Azure AD","ClientToClient": "0","ClientCity": "{city}","MicroTenantID": "0","AppMicrotenantID": "0","Platform": "{platform}","Hostname": "{host}"}}"#,
            host = Hostname(d),
            rx_total = c.rx_total,
            tx_total = c.tx_total,
        );
    }

    /// The LSS service's own long-lived connection, as the Zscaler help sample shows it.
    fn write_lss_client(&mut self, out: &mut String) {
        let r = &mut self.run.rng;
        let bytes = 1_000 + r.below(100_000);
        let _ = write!(
            out,
            r#"{{"LogTimestamp": "{}","Customer": "Example Corp","SessionID": ""#,
            Stamp::Ctime(self.now_ms / 1000)
        );
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
}

options!(ActivityGenerator, 2600);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_records_parse_as_zpa_with_no_dead_letters() {
        use crate::decode::Decoder;
        use crate::kind::Kind;

        let n = 3000;
        let cardinality = Cardinality {
            devices: 50,
            users: 40,
            servers: 30,
        };
        let text = ActivityGenerator::new(7, cardinality).lines(n);
        let mut decoder = Decoder::new(jiff::tz::TimeZone::UTC);
        let received = "2025-11-22T10:00:00Z".parse().unwrap();
        let mut records = Vec::new();
        for line in text.lines() {
            let decoded = decoder
                .decode(line.as_bytes(), received, &mut records)
                .unwrap_or_else(|reason| panic!("{reason:?}: {line}"));
            assert_eq!(decoded.facts.kind, Kind::ZpaUserActivity, "{line}");
        }
        let records = String::from_utf8(records).unwrap();
        assert_eq!(records.lines().count(), n);
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
}

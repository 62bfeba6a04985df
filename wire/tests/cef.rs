//! ArcSight CEF frames, as Zscaler's ArcSight / Sentinel templates write them
//! (`zscaler/microsoft-resources`, `nss-{web,fw,dns,tunnel}.cef`), into records: the log type
//! from the header's product, custom fields by their labels, escapes, values with spaces and
//! `=`, the syslog header in front, and what makes a frame a dead letter. The synthetic CEF feed
//! must give the records its JSON twin gives.
//! A warm decoder allocates nothing per frame, escaped or not.

mod common;

use common::{contested, dead_reason, keys_added, one, run};
use serde_json::{json, Value};
use wire::event::Reason;
use wire::synth::{Cardinality, Dialect, WebGenerator};

/// The feed's zone, for `rt`, which carries none.
const ZONE: &str = "UTC";

/// A blocked web transaction in Zscaler's web template.
const WEB: &str = "Oct 02 16:21:40 zscaler-nss CEF:0|Zscaler|NSSWeblog|5.7|Blocked|Not allowed to browse this category|3|act=Blocked Severity=3 name=Not allowed to browse this category deviceEventClassId=Blocked app=HTTPS cat=Adult Themes dhost=www.blocked-example.com dst=203.0.113.9 src=192.168.180.253 in_bytes=0 in=0 outcome=403 out=812 request=www.blocked-example.com/index?a=b&c=d rt=Oct 02 2017 16:21:40 sourceTranslatedAddress=198.51.100.5 requestClientApplication=Mozilla/5.0 (Windows NT 10.0; Win64; x64) requestMethod=GET suser=jdoe@safemarch.com spriv=Head Quarters externalId=7379073205867184131 fileType=None reason=Not allowed to browse this category destinationServiceName=General Browsing cn1=72 cn1Label=riskscore cs1=Sales cs1Label=dept cs2=Entertainment/Recreation cs2Label=urlsupercat cs3=General Browsing cs3Label=appclass cs4=Trojan cs4Label=malwarecat cs5=EICAR Test File cs5Label=threatname cs6=None cs6Label=dlpeng ZscalerNSSWeblogURLClass=Privacy Risk ZscalerNSSWeblogDLPDictionaries=None requestContext=www.example.com/ contenttype=None unscannabletype=None deviceowner=jdoe devicehostname=JDOE-PC";

/// The record of [`WEB`].
fn web_record(r: &Value) -> Value {
    json!({"ts":"2017-10-02T16:21:40Z","kind":"zia.web","device_id":r["device_id"],"device":"JDOE-PC",
        "user":"jdoe@safemarch.com","owner":"jdoe","src_ip":"192.168.180.253","src_port":18000,
        "dst_ip":"203.0.113.9","dst_port":443,"dst_host":"www.blocked-example.com","transport":"tcp",
        "app_proto":"https","bytes_out":812,"bytes_in":0,"action":"blocked","method":"GET",
        "http_status":403,"url":"www.blocked-example.com/index?a=b&c=d","category":"Adult Themes",
        "app":"General Browsing","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "referer":"www.example.com/","location":"Head Quarters","department":"Sales",
        "threat":"EICAR Test File","threat_category":"Trojan","risk":72,
        "record_id":"7379073205867184131","tags":["ZIA"]})
}

#[test]
fn web_template_becomes_the_web_record() {
    let r = one(ZONE, WEB);
    assert_eq!(r, web_record(&r));
}

#[test]
fn any_syslog_header_or_none_in_front() {
    let frame = &WEB[WEB.find("CEF:").unwrap()..];
    for line in [
        frame.to_string(),
        format!("<134>Oct 02 16:21:40 zscaler-nss {frame}"),
        // A sender that leaves out the host: the header's next word is the record's own.
        format!("<134>Oct 02 16:21:40 {frame}"),
        format!("<134>1 2017-10-02T16:21:40Z nss zscaler-nss - - - {frame}"),
        format!("Oct 02 16:21:40 zscaler-nss zscaler-nss: {frame}"),
    ] {
        let r = one(ZONE, &line);
        assert_eq!(r, web_record(&r), "{line}");
    }
}

/// A web frame with the extension `extension`.
fn web(extension: &str) -> Value {
    one(
        ZONE,
        &format!(
            "CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3|src=10.0.0.1 rt=Oct 02 2017 16:21:40 {extension}"
        ),
    )
}

#[test]
fn extension_escapes() {
    let r = web(
        r"cat=Sports\=News requestClientApplication=Agent\\2 \|3 spriv=Floor 1\r\nFloor 2 suser=C:\temp\user",
    );
    assert_eq!(r["category"], "Sports=News");
    // From the value-fidelity audit: NSS escapes nothing with a backslash, so only CEF's
    // separators' escapes are read as such; `\n`, `\r` and `\\` are the client's text (a login
    // `CORP\nadia` held a line feed, a share `\\srv` lost a backslash).
    assert_eq!(r["user_agent"], r"Agent\\2 |3");
    assert_eq!(r["location"], r"Floor 1\r\nFloor 2");
    // A Windows path keeps its backslashes.
    assert_eq!(r["user"], r"C:\temp\user");
    let r = web(r"suser=CORP\nadia fname=\\srv\share\new.doc");
    assert_eq!(r["user"], r"CORP\nadia");
}

#[test]
fn values_hold_spaces_and_equals_signs() {
    let r = web("request=a.example/?q=1&x==2 cat=Web Search  dhost=a.example requestClientApplication=Mozilla/5.0 (X11; rv:1.0) Gecko/20100101");
    assert_eq!(r["url"], "a.example/?q=1&x==2");
    assert_eq!(r["category"], "Web Search");
    assert_eq!(r["dst_host"], "a.example");
    assert_eq!(r["user_agent"], "Mozilla/5.0 (X11; rv:1.0) Gecko/20100101");
}

/// NSS writes `%s{ua}` as the client sent it: elastic/integrations#5296 quotes a Sophos
/// updater whose agent holds `key="value"` runs. CEF quotes no value, so a run whose value
/// opens with a quote is part of the value before it, whatever its name: a client that puts
/// `devicehostname="CEO-LAPTOP"` in its agent names no device (a black-box tester's case).
#[test]
fn an_agent_holding_quoted_runs_keeps_them() {
    let agent = r#"SophosUpdate/6.13.1014 SDDS/3.0 (t="b418847e-15a5" d="3683" os="WIN_10_X64" osrel="2009 19042.1237")"#;
    let r = web(&format!(
        "requestClientApplication={agent} suser=jdoe@example.com cat=Sports"
    ));
    assert_eq!(r["user_agent"], agent);
    assert_eq!(r["user"], "jdoe@example.com");
    assert_eq!(r["category"], "Sports");
    let agent = r#"Mozilla/5.0 x devicehostname="CEO-LAPTOP" suser="ceo@corp" cs1="x""#;
    let r = web(&format!(
        "requestClientApplication={agent} suser=jdoe@example.com devicehostname=JDOE-PC cat=Sports"
    ));
    assert_eq!(r["user_agent"], agent);
    assert_eq!(r["user"], "jdoe@example.com");
    assert_eq!(r["device"], "JDOE-PC");
    assert!(r.get("department").is_none(), "{r}");
}

/// A client may start its agent, or a server its file's name, with a quote. After a value NSS
/// writes itself the run is the template's next key all the same: read as part of the value
/// before it, the agent was lost and the location took it (tester U1's case).
#[test]
fn a_value_a_client_starts_with_a_quote_is_its_key_s() {
    let r = web(r#"spriv=HQ Paris requestClientApplication="Go" client/1.0 requestMethod=GET"#);
    assert_eq!(r["user_agent"], r#""Go" client/1.0"#);
    assert_eq!(r["location"], "HQ Paris");
    assert_eq!(r["method"], "GET");
    let r = one(
        ZONE,
        r#"CEF:0|Zscaler|NSSCasbfilesharinglog|5.7|Box|r|3| deviceEventClassId=Box deviceExternalId=2 fname="Q4" plan.xlsx suser=jdoe@example.com"#,
    );
    assert_eq!(r["file_name"], r#""Q4" plan.xlsx"#, "{r}");
    assert_eq!(r["user"], "jdoe@example.com");
}

#[test]
fn custom_fields_take_their_label_before_or_after_them() {
    let r = web("cs1Label=dept cs1=R&D cn2=55 cn2Label=riskscore cs6label=threatname cs6=Trojan.X flexString1=x flexString1Label=no-such-key cs4=md5hash cs4Label=0123abcd");
    assert_eq!(r["department"], "R&D");
    assert_eq!(r["risk"], 55);
    assert_eq!(r["threat"], "Trojan.X");
    assert!(r.get("threat_category").is_none(), "{r}");
}

#[test]
fn header_fields_and_the_extension_may_hold_escaped_pipes() {
    let r = one(
        ZONE,
        r"CEF:0|Zscaler|NSSFWlog|5.7|Drop|Block \|SMB\| \\ outbound|3|act=Drop src=10.0.0.1 dst=203.0.113.5 request=a|b",
    );
    assert_eq!(r["kind"], "zia.firewall");
    assert_eq!(r["rule"], r"Block |SMB| \ outbound");
}

#[test]
fn a_header_value_holding_unescaped_pipes_keeps_them() {
    // NSS escapes nothing in `%s{rulelabel}` or `%s{reason}`: a rule `Block | Social` made the
    // Severity ` Social`, the extension `3|act=Drop …`, and its first key `3|act` (tester U1:
    // records without their action).
    let r = one(
        ZONE,
        "CEF:0|Zscaler|NSSFWlog|5.7|Drop|Block | Social|| x|3|act=Drop src=10.0.0.1 dst=203.0.113.5 request=a|b",
    );
    assert_eq!(r["kind"], "zia.firewall");
    assert_eq!(r["rule"], "Block | Social|| x");
    assert_eq!(r["action"], "drop");
    let r = web("act=Blocked x=a|b");
    assert_eq!(
        r["action"], "blocked",
        "a pipe after the first key stays in its value"
    );
    let line = FIREWALL.replace("Block Outbound SMB", "Block | Outbound SMB");
    let mut want = one(ZONE, FIREWALL);
    want["rule"] = "Block | Outbound SMB".into();
    assert_eq!(one(ZONE, &line), want);
}

#[test]
fn header_without_its_seven_fields_is_malformed() {
    for line in [
        "CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3",
        "CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed",
        r"CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed\|3|src=10.0.0.1 act=Allowed",
        "Oct 02 16:21:40 zscaler-nss CEF:0|Zscaler",
        "CEF:",
    ] {
        assert_eq!(
            dead_reason(ZONE, line.as_bytes()),
            Reason::MalformedCef,
            "{line}"
        );
    }
}

#[test]
fn invalid_utf8_is_a_dead_letter() {
    let mut line =
        b"CEF:0|Zscaler|NSSWeblog|5.7|Allowed|Allowed|3|src=10.0.0.1 request=a.com/".to_vec();
    line.push(0xff);
    assert_eq!(dead_reason(ZONE, &line), Reason::InvalidUtf8);
    // In the header too, where a cut multi-byte character meets a pipe.
    let line = b"CEF:0|Zscaler|NSS\xc3|5.7|Allowed|Allowed|3|src=10.0.0.1";
    assert_eq!(dead_reason(ZONE, line), Reason::InvalidUtf8);
}

/// A session in Zscaler's firewall template (`rt` as the Cortex XSIAM guide has it, without a
/// year: the syslog header's time is the record's).
const FIREWALL: &str = "Oct 02 16:21:40 zscaler-nss-fw CEF:0|Zscaler|NSSFWlog|5.7|Drop|Block Outbound SMB|3| Severity=3 name=Block Outbound SMB deviceEventClassId=Drop act=Drop suser=jdoe@safemarch.com src=192.168.140.31 spt=49155 dst=203.0.113.5 dpt=445 deviceTranslatedAddress=198.51.100.7 deviceTranslatedPort=30001 destinationTranslatedAddress=0.0.0.0 destinationTranslatedPort=0 sourceTranslatedAddress=1.1.1.1 sourceTranslatedPort=0 proto=TCP tunnelType=GRE dnat=No stateful=Yes spriv=Headquarters reason=Block Outbound SMB in_bytes=0 in=0 out=176 rt=Oct 02 16:21:40 deviceDirection=1 cs1=Default Department cs1Label=dept cs2=SMB cs2Label=nwService cs3=tcp cs3Label=nwApp cs4=No cs4Label=aggregated cs5=None cs5Label=threatcat cs6=None cs6label=threatname cn1=30 cn1Label=durationms cn2=1 cn2Label=numsessions flexString1Label=ipCat flexString1=Miscellaneous or Unknown destCountry=United States avgduration=30";

#[test]
fn firewall_by_the_header_product() {
    let r = one(ZONE, FIREWALL);
    assert_eq!(
        r,
        json!({"ts":"2026-10-02T16:21:40Z","kind":"zia.firewall","device_id":r["device_id"],
            "user":"jdoe@safemarch.com","src_ip":"192.168.140.31",
            "src_port":49155,"dst_ip":"203.0.113.5","dst_port":445,"nat_ip":"198.51.100.7",
            "nat_port":30001,"transport":"tcp","app_proto":"smb","app":"tcp","action":"drop",
            "rule":"Block Outbound SMB","bytes_out":176,"bytes_in":0,"duration_ms":30,
            "location":"Headquarters","department":"Default Department","tags":["ZIA"]})
    );
}

#[test]
fn a_firewall_session_names_its_device_as_shost_too() {
    let line = format!("{FIREWALL} shost=FW-SHOST-1 deviceowner=jdoe");
    let r = one(ZONE, &line);
    assert_eq!(r["device"], "FW-SHOST-1", "{r}");
    assert_eq!(
        r["device_id"],
        one(ZONE, &DNS.replace("John-Doe-PC", "fw-shost-1"))["device_id"]
    );
    // With both, dvchost (Zscaler's own presets' field) names it, whichever comes first.
    for both in ["shost=FW-S dvchost=FW-D", "dvchost=FW-D shost=FW-S"] {
        let r = one(ZONE, &format!("{FIREWALL} {both}"));
        assert_eq!(r["device"], "FW-D", "{both}: {r}");
    }
}

/// A lookup in Zscaler's DNS template.
const DNS: &str = "Oct 02 16:21:40 zscaler-nss-fw CEF:0|Zscaler|NSSDNSlog|5.7|Req(allow),Res(allow)|Default Firewall DNS Rule|3| act=Req(allow),Res(allow) Severity=3 name=Default Firewall DNS Rule deviceEventClassId=Req(allow),Res(allow) suser=user@zscaler.com cs1=Sales cs1Label=department cs2=Allow cs2Label=reqaction cs3=Allow cs3Label=resaction cs4=AAAA cs4Label=dns_reqtype cs5=login.microsoftonline.com cs5Label=dns_req cs6=40.126.32.140 cs6Label=dns_resp cn1=4 cn1Label=durationms flexString1=DNS Rule 1 flexString1Label=reqrulelabel flexString2=Default Firewall DNS Rule flexString2Label=resrulelabel cat=Professional Services src=192.168.180.41 dst=1.1.1.1 dpt=53 spriv=Headquarters suid=John-Doe dvchost=John-Doe-PC";

#[test]
fn dns_by_the_header_product() {
    let r = one(ZONE, DNS);
    assert_eq!(
        r,
        json!({"ts":"2026-10-02T16:21:40Z","kind":"zia.dns","device_id":r["device_id"],
            "device":"John-Doe-PC","user":"user@zscaler.com","src_ip":"192.168.180.41",
            "dst_ip":"1.1.1.1","dst_port":53,"transport":"udp","app_proto":"dns",
            "query":"login.microsoftonline.com","query_type":"AAAA","answer":"40.126.32.140",
            "action":"allow","rule":"DNS Rule 1","category":"Professional Services",
            "duration_ms":4,"tags":["ZIA"]})
    );
    // A blocked answer decides, by its custom field's label as by its JSON key.
    let blocked = DNS
        .replace("cs3=Allow cs3Label", "cs3=Block cs3Label")
        .replace(
            "flexString2=Default Firewall DNS Rule",
            "flexString2=Answer Rule",
        );
    let r = one(ZONE, &blocked);
    assert_eq!(
        (r["action"].as_str(), r["rule"].as_str()),
        (Some("block"), Some("Answer Rule")),
        "{r}"
    );
}

#[test]
fn the_product_decides_between_log_types_the_keys_leave_open() {
    for (product, kind) in [
        ("NSSWeblog", "zia.web"),
        ("NSSFWlog", "zia.firewall"),
        ("NSSFWLog", "zia.firewall"),
        ("NSSDNSlog", "zia.dns"),
    ] {
        let line = format!("CEF:0|Zscaler|{product}|5.7|Allow|Rule 1|3|act=Allow src=10.0.0.1 dst=1.1.1.1 rt=Oct 02 2017 16:21:40");
        assert_eq!(one(ZONE, &line)["kind"], kind, "{product}");
    }
    let line = "CEF:0|Zscaler|NSSSomethinglog|5.7|Allow|Rule 1|3|act=Allow src=10.0.0.1";
    assert_eq!(dead_reason(ZONE, line.as_bytes()), Reason::UnknownType);
}

#[test]
fn a_saas_url_keeps_its_percent_escapes_as_json_does() {
    // Sentinel's SaaS Security preset writes `request=%s{fullurl}`, the URL as it is, where the
    // web preset writes `request=%s{eurl}`, which NSS %HH-encodes.
    let cef = "CEF:0|Zscaler|NSSCasbfilesharinglog|5.7|Box|r|3| deviceEventClassId=Box deviceExternalId=2 fname=a.xlsx request=https://app.box.com/s?q=a%20b%2Cc suser=jdoe@example.com";
    let json = r#"{"sourcetype":"zscalernss-casb","event":{"applicationname":"Box","recordid":"2","filename":"a.xlsx","fullurl":"https://app.box.com/s?q=a%20b%2Cc","user":"jdoe@example.com"}}"#;
    let (c, j) = (one(ZONE, cef), one(ZONE, json));
    assert_eq!(c["url"], "https://app.box.com/s?q=a%20b%2Cc");
    assert_eq!(c["url"], j["url"]);
    // The web preset's is decoded, as its JSON twin's `eurl` is.
    let web = web("request=a.com/x%20y");
    assert_eq!(web["url"], "a.com/x y");
}

#[test]
fn tunnel_event_by_the_header_product() {
    let r = one(
        ZONE,
        "Oct 02 16:21:40 zscaler-nss-tunnel CEF:0|Zscaler|NSSTunnellog|5.7|WL_TUNNEL_EVENT|DOWN|3| spt=500 dst=165.225.104.35 name=DOWN reason=DPD_TIMEOUT cs4Label=locationname cs4=Home src=116.113.61.142 deviceEventClassId=WL_TUNNEL_EVENT cs5Label=tunneltype cs5=GRE suser=user@zscaler.com deviceExternalId=4412890 olocationname=Home ovpncredentialname=user@zscaler.com dtz=GMT",
    );
    assert_eq!(r["kind"], "zia.tunnel");
    assert_eq!(r["record_type"], "WL_TUNNEL_EVENT");
    assert_eq!(r["tunnel_type"], "GRE");
    assert_eq!(r["location"], "Home");
    assert_eq!(r["record_id"], "4412890");
}

/// Zscaler's Sentinel tunnel JSON (`cloud-nss-tunnel.fof`) writes the CEF header's Name as
/// `name`, and each record type's template fills it with another variable: only in Tunnel Events
/// is it the event; in IKE Phase 2 it is the tunnel protocol; in Phase 1 (the VIP) and Samples
/// (the tunnel type) a value written under its own key too.
#[test]
fn a_sentinel_tunnel_records_name_is_what_its_record_type_puts_there() {
    let line = |rest: &str| {
        format!(
            r#"{{"TimeGenerated":"2024-06-12 23:57:08","sourcetype":"zscalernss-tunnel","vendor":"Zscaler","product":"NSSTunnellog","version":"5.7","severity":"3","dst":"165.225.104.35","cs4Label":"locationname","cs4":"HQ","src":"198.51.100.20","suser":"vpn@example.com","deviceExternalId":"4412890","dtz":"GMT",{rest}}}"#
        )
    };
    let phase1 = one(
        ZONE,
        &line(
            r#""deviceEventClassId":"IPSec Phase1","cn1Label":"ikeversion","cn1":"2","name":"165.225.104.35""#,
        ),
    );
    let phase2 = one(
        ZONE,
        &line(r#""deviceEventClassId":"IPSec Phase2","spi":"7","lifebytes":"0","name":"ESP""#),
    );
    let event = one(
        ZONE,
        &line(
            r#""deviceEventClassId":"WL_TUNNEL_EVENT","reason":"DPD_TIMEOUT","cs5Label":"tunneltype","cs5":"IPSEC IKEV 2","name":"DOWN""#,
        ),
    );
    let untold = one(ZONE, &line(r#""reason":"DPD_TIMEOUT","name":"UP""#));
    let samples = one(
        ZONE,
        &line(
            r#""deviceEventClassId":"Tunnel Samples","cs5Label":"tunneltype","cs5":"GRE","name":"GRE""#,
        ),
    );
    for r in [&phase1, &phase2, &event, &untold, &samples] {
        assert_eq!(r["kind"], "zia.tunnel", "{r}");
        assert_eq!(r["dst_ip"], "165.225.104.35", "{r}");
    }
    assert_eq!(phase1.get("event"), None, "{phase1}");
    assert_eq!(phase2.get("event"), None, "{phase2}");
    assert_eq!(phase2["tunnel_protocol"], "ESP", "{phase2}");
    assert_eq!(event["event"], "DOWN", "{event}");
    assert_eq!(event["event_reason"], "DPD_TIMEOUT", "{event}");
    assert_eq!(event.get("tunnel_protocol"), None, "{event}");
    // No record type: the event's reason beside it says what it is.
    assert_eq!(untold["event"], "UP", "{untold}");
    assert_eq!(samples.get("event"), None, "{samples}");
    assert_eq!(samples["tunnel_type"], "GRE", "{samples}");
    // A `name` written twice with two values contests the event, as any key would; an absent
    // first one leaves the event to a present second.
    let twice = contested(
        ZONE,
        &line(r#""deviceEventClassId":"Tunnel Event","reason":"x","name":"UP","name":"DOWN""#),
    );
    assert_eq!(twice.get("event"), None, "{twice}");
    assert_eq!(twice["event_reason"], "x", "{twice}");
    let late = one(
        ZONE,
        &line(r#""deviceEventClassId":"Tunnel Event","name":"None","reason":"x","name":"DOWN""#),
    );
    assert_eq!(late["event"], "DOWN", "{late}");
}

#[test]
fn admin_audit_by_the_header_product_its_category_from_its_label() {
    let r = one(
        ZONE,
        "Jun 07 07:50:48 zscaler-nss-audit CEF:0|Zscaler|NSSAuditlog|5.7|ACTIVATE|ACTIVATION|3| Severity=3 name=ACTIVATION deviceEventClassId=ACTIVATE act=ACTIVATE cs1Label=category cs1=ACTIVATION cs2Label=subcategory cs2=ACTIVATION cs3Label=resource cs3=com.zscaler.zdx.service.ActivationService$ActivationStatus cat=UI suser=zdx-admin@92713.zscalertwo.net src=10.36.112.101 outcome=SUCCESS reason=Unknown sourceServiceName=ZDX cs4Label=preaction cs4={%22status%22:%22pending%22} cs5Label=postaction cs5={%22status%22:%22active%22} deviceExternalId=7536",
    );
    assert_eq!(r["kind"], "zia.audit");
    // `cat` is the interface (`UI`) in this template.
    assert_eq!(r["category"], "ACTIVATION");
    assert_eq!(r["subcategory"], "ACTIVATION");
    assert_eq!(r["user"], "zdx-admin@92713.zscalertwo.net");
    assert_eq!(r["client_ip"], "10.36.112.101");
    assert_eq!(r["audit_type"], "ZDX");
    assert_eq!(r["record_id"], "7536");
}

/// The fields both a JSON record and a CEF or LEEF record of the same synthetic line carry.
const SHARED_FIELDS: &[&str] = &[
    "ts",
    "kind",
    "device_id",
    "device",
    "user",
    "owner",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "dst_host",
    "transport",
    "app_proto",
    "bytes_out",
    "bytes_in",
    "action",
    "method",
    "http_status",
    "url",
    "category",
    "user_agent",
    "referer",
    "location",
    "record_id",
    "tags",
];

#[test]
fn synthetic_cef_gives_the_records_its_json_twin_gives() {
    let lines = |dialect| WebGenerator::new(11, dialect, Cardinality::default()).lines(300);
    let (json, cef) = (lines(Dialect::Ztel), lines(Dialect::Cef));
    let as_bytes = |text: &str| {
        text.lines()
            .map(|l| l.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    let (json, cef) = (as_bytes(&json), as_bytes(&cef));
    let json = run(ZONE, &json.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let cef = run(ZONE, &cef.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(json.dead.is_empty() && cef.dead.is_empty());
    assert_eq!(json.records.len(), 300);
    assert_eq!(cef.records.len(), 300);
    for (j, c) in json.records.iter().zip(&cef.records) {
        for field in SHARED_FIELDS {
            assert!(j.get(field).is_some(), "JSON lacks {field}: {j}");
            assert_eq!(j[field], c[field], "{field}:\n{j}\n{c}");
        }
        // Whatever else both carry agrees too.
        for (key, value) in j.as_object().unwrap() {
            if let Some(other) = c.get(key) {
                assert_eq!(value, other, "{key}");
            }
        }
    }
}

/// ` key=` inside the agent NSS writes as the client sent it starts a pair: a key written twice
/// with two values, an ArcSight key or a custom one, leaves its field out of the record, and the
/// frame is kept as a dead letter too (README).
#[test]
fn a_key_written_twice_is_left_out() {
    let agent = "requestClientApplication=Mozilla/5.0 (Windows NT 10.0; Win64; x64)";
    assert!(WEB.contains(agent));
    let whole = one(ZONE, WEB);
    // The last two: a custom field the template leaves unused, labelled as a key it writes;
    // and a label the template writes, named again before it: the value goes nowhere, and the
    // field the first label names is contested (which of the two is NSS's, the frame does not
    // say).
    for (pairs, gone) in [
        (
            "suser=ceo@corp devicehostname=CEO-PC",
            &["user", "device"][..],
        ),
        ("cs1=Finance", &["department"]),
        (
            "flexString1=CEO-PC flexString1Label=devicehostname",
            &["device"],
        ),
        ("cs1Label=devicehostname", &["department", "device"]),
        ("cs1Label=location", &["department", "location"]),
    ] {
        let forged = WEB.replace(agent, &format!("{agent} {pairs}"));
        let r = contested(ZONE, &forged);
        for key in whole.as_object().unwrap().keys() {
            let want = match gone.contains(&key.as_str()) {
                true => None,
                false => Some(&whole[key]),
            };
            if key != "device_id" {
                assert_eq!(r.get(key), want, "{pairs}: {key}: {r}");
            }
        }
        // Nor does it add one.
        assert_eq!(keys_added(&r, &whole), Vec::<&str>::new(), "{pairs}: {r}");
        // Without its hostname, the device is its client's address (DESIGN §2.4).
        let key: &[u8] = if gone.contains(&"device") {
            b"192.168.180.253"
        } else {
            b"jdoe-pc"
        };
        let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key));
        assert_eq!(r["device_id"], id.as_str(), "{pairs}: {r}");
    }
    assert_eq!(
        (whole["user"].as_str(), whole["device"].as_str()),
        (Some("jdoe@safemarch.com"), Some("JDOE-PC"))
    );
}

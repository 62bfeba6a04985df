use crate::*;
use serde_json::json;

/// ZIA JSON: web, tunnel, audit, SaaS Security and SaaS Security Activity after the Zscaler and
/// Sekoia Deployment Guide's templates (`tests/corpus/sekoia-guide-nss-templates.txt`, behind
/// their `%s{mon} %02d{dd} … zscaler-nss` prefix); firewall and DNS after Elastic's "Zscaler
/// response format (v1)" (elastic/integrations, packages/zscaler_zia/docs/README.md), which
/// sends no prefix.
pub(crate) fn json_cells() -> Vec<Cell> {
    vec![
        cell(
            "web",
            "zia.web",
            concat!(
                r#"Jun 20 15:29:11 zscaler-nss { "sourcetype" : "zscalernss-web", "event" : {"#,
                r#""datetime":"2022-06-20 15:29:11","reason":"Allowed","#,
                r#""event_id":"7219431205364318210","#,
                r#""protocol":"HTTPS","action":"Allowed","transactionsize":"14659","#,
                r#""responsesize":"14061","requestsize":"598","urlcategory":"Web Search","#,
                r#""serverip":"203.0.113.9","requestmethod":"GET","refererURL":"None","#,
                r#""useragent":"Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)","#,
                r#""product":"NSS","location":"HQ","ClientIP":"10.1.2.3","status":"200","#,
                r#""user":"jane@example.com","url":"www.example.com/search?q=zscaler","#,
                r#""vendor":"Zscaler","hostname":"www.example.com","#,
                r#""clientpublicIP":"198.51.100.4","#,
                r#""threatcategory":"None","threatname":"None","filetype":"None","#,
                r#""appname":"General Browsing","pagerisk":"0","department":"Sales","#,
                r#""urlsupercategory":"Information Technology","appclass":"General Browsing","#,
                r#""dlpengine":"None","urlclass":"Business Use","threatclass":"None","#,
                r#""dlpdictionaries":"None","fileclass":"None","bwthrottle":"NO","#,
                r#""contenttype":"text/html","unscannabletype":"None","deviceowner":"jane","#,
                r#""devicehostname":"LAPTOP-7","keyprotectiontype":"N/A"}}"#,
            ),
            &[
                ("ts", json!("2022-06-20T15:29:11Z")),
                ("user", json!("jane@example.com")),
                ("src_ip", json!("10.1.2.3")),
                ("dst_ip", json!("203.0.113.9")),
                ("http_status", json!(200)),
                ("record_id", json!("7219431205364318210")),
            ],
        ),
        cell(
            "firewall",
            "zia.firewall",
            concat!(
                r#"{ "sourcetype" : "zscalernss-fw", "event" :{"#,
                r#""datetime":"Mon Jun 20 15:35:48 2022","#,
                r#""user":"jane@example.com","department":"Sales","locationname":"HQ","#,
                r#""cdport":"445","csport":"51515","sdport":"445","ssport":"30001","#,
                r#""csip":"10.1.2.3","cdip":"203.0.113.5","ssip":"198.51.100.7","#,
                r#""sdip":"203.0.113.5","#,
                r#""tsip":"0.0.0.0","tunsport":"0","tuntype":"GRE","action":"Drop","dnat":"No","#,
                r#""stateful":"Yes","aggregate":"No","nwsvc":"SMB","nwapp":"smb","proto":"TCP","#,
                r#""ipcat":"Miscellaneous or Unknown","destcountry":"United States","#,
                r#""avgduration":"30","rulelabel":"Block%20Outbound%20SMB","inbytes":"0","#,
                r#""outbytes":"176","duration":"0","durationms":"30","numsessions":"1","#,
                r#""ipsrulelabel":"None","threatcat":"None","#,
                r#""threatname":"Linux.Backdoor%20Tsunami","#,
                r#""deviceowner":"jane","devicehostname":"LAPTOP-7"}}"#,
            ),
            // Elastic's `rulelabel` is `%s{erulelabel}`, its `threatname` `%s{ethreatname}`.
            &[
                ("ts", json!("2022-06-20T15:35:48Z")),
                ("user", json!("jane@example.com")),
                ("src_ip", json!("10.1.2.3")),
                ("src_port", json!(51515)),
                ("dst_ip", json!("203.0.113.5")),
                ("dst_port", json!(445)),
                ("action", json!("drop")),
                ("rule", json!("Block Outbound SMB")),
                ("threat", json!("Linux.Backdoor Tsunami")),
            ],
        ),
        cell(
            "dns",
            "zia.dns",
            concat!(
                r#"{ "sourcetype" : "zscalernss-dns", "event" :{"#,
                r#""datetime":"Mon Jun 20 14:56:51 2022","#,
                r#""user":"jane@example.com","department":"Sales","location":"HQ","#,
                r#""reqaction":"Allow","resaction":"Allow","reqrulelabel":"DNS_1","#,
                r#""resrulelabel":"Zscaler%20Bypass%20Traffic","dns_reqtype":"AAAA","#,
                r#""dns_req":"login.microsoftonline.com","dns_resp":"40.126.32.140","#,
                r#""srv_dport":"53","durationms":"4","clt_sip":"10.1.2.3","srv_dip":"1.1.1.1","#,
                r#""category":"Professional Services","deviceowner":"jane","#,
                r#""devicehostname":"LAPTOP-7"}}"#,
            ),
            &[
                ("user", json!("jane@example.com")),
                ("src_ip", json!("10.1.2.3")),
                ("dst_ip", json!("1.1.1.1")),
                ("query", json!("login.microsoftonline.com")),
                ("query_type", json!("AAAA")),
                ("action", json!("allow")),
            ],
        ),
        cell(
            "tunnel",
            "zia.tunnel",
            concat!(
                r#"Jun 20 15:10:02 zscaler-nss { "sourcetype" : "zscalernss-tunnel", "event" : {"#,
                r#""datetime":"Mon Jun 20 15:10:02 2022","Recordtype":"Tunnel Event","#,
                r#""tunneltype":"GRE","user":"hq-gre@example.com","location":"HQ","#,
                r#""sourceip":"198.51.100.20","destinationip":"165.225.104.35","sourceport":"0","#,
                r#""event":"DOWN","eventreason":"DPD_TIMEOUT","recordid":"7112472280601133057"}}"#,
            ),
            &[
                ("record_type", json!("Tunnel Event")),
                ("user", json!("hq-gre@example.com")),
                ("src_ip", json!("198.51.100.20")),
                ("dst_ip", json!("165.225.104.35")),
                ("record_id", json!("7112472280601133057")),
            ],
        ),
        cell(
            "audit",
            "zia.audit",
            concat!(
                r#"Jun 20 07:50:48 zscaler-nss { "sourcetype" : "zscalernss-audit", "event" :{"#,
                r#""time":"Mon Jun 20 07:50:48 2022","recordid":"7536","action":"ACTIVATE","#,
                r#""category":"ACTIVATION","subcategory":"ACTIVATION","#,
                r#""resource":"com.zscaler.zdx.service.ActivationService$ActivationStatus","#,
                r#""interface":"UI","adminid":"admin@example.zscalertwo.net","#,
                r#""clientip":"10.36.112.101","result":"SUCCESS","errorcode":"None","#,
                r#""auditlogtype":"ZIA","preaction":"{%22status%22:%22pending%22}","#,
                r#""postaction":"{%22status%22:%22active%22}"}}"#,
            ),
            &[
                ("user", json!("admin@example.zscalertwo.net")),
                ("category", json!("ACTIVATION")),
                ("client_ip", json!("10.36.112.101")),
                ("result", json!("SUCCESS")),
                ("record_id", json!("7536")),
            ],
        ),
        cell(
            "saas",
            "zia.saas",
            concat!(
                r#"Jun 20 15:35:15 zscaler-nss { "sourcetype" : "zscalernss-casb", "event" :{"#,
                r#""datetime":"Mon Jun 20 15:35:15 2022","recordid":"7132869149011804161","#,
                r#""company":"Example","tenant":"sp-tenant","#,
                r#""login":"jane@example.onmicrosoft.com","#,
                r#""dept":"Sales","applicationname":"SHAREPOINT","filename":"q3-report.pdf","#,
                r#""filesource":"/sites/finance/Shared%20Documents","#,
                r#""filemd5":"01565bf41f1cb993d69334f409835293","threatname":"None","#,
                r#""policy":"Quarantine Malware","dlpdictnames":"None","dlpdictcount":"None","#,
                r#""dlpenginenames":"None","fullurl":"Unknown URL","#,
                r#""lastmodtime":"Thu Jun 16 14:03:13 2022","filescantimems":"537","#,
                r#""filedownloadtimems":"435"}}"#,
            ),
            &[
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("sp-tenant")),
                ("app", json!("SHAREPOINT")),
                ("file_md5", json!("01565bf41f1cb993d69334f409835293")),
                ("record_id", json!("7132869149011804161")),
            ],
        ),
        cell(
            "saas_activity",
            "zia.saas_activity",
            concat!(
                r#"Jun 20 15:40:00 zscaler-nss { "sourcetype" : "zscalernss-casb", "event" :{"#,
                r#""login":"jane@example.onmicrosoft.com","tenant":"od-tenant","object_type":"2","#,
                r#""applicationname":"ONEDRIVE","object_name_1":"q3-report.pdf","#,
                r#""object_name_2":"Finance"}}"#,
            ),
            &[
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("od-tenant")),
                ("app", json!("ONEDRIVE")),
                ("object_name", json!("q3-report.pdf")),
            ],
        ),
    ]
}

#[test]
fn json_every_zia_log_type() {
    let cells = json_cells();
    covers_zia(&cells);
    check("JSON", &cells);
}

#[test]
fn json_an_audits_objects_reach_the_record_as_their_json_text() {
    // Elastic's and Datadog's templates write `%s{preaction}` unquoted: the record keeps each
    // object as a JSON string of its text, escapes and all, as the CSV feed keeps it.
    let post = r#"{"rule":"say \"hi\"","groups":[ "a", "b" ],"n":1}"#;
    let line = format!(
        r#"{{"sourcetype":"zscalernss-audit","event":{{"datetime":"2026-02-12 07:10:22","action":"UPDATE","preaction":{{}},"postaction":{post}}}}}"#
    );
    let r = common::one(ZONE, &line);
    assert_eq!(r["pre_action"], "{}");
    assert_eq!(r["post_action"], post);
    let text = r["post_action"].as_str().expect("a string");
    let parsed: Value = serde_json::from_str(text).expect("JSON text");
    assert_eq!(parsed["rule"], r#"say "hi""#);
}

use crate::*;
use serde_json::json;

/// ZIA LEEF. Zscaler publishes a QRadar LEEF preset for web logs only (reproduced by Rapid7,
/// docs.rapid7.com/insightidr/zscaler-nss/: `… zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|%s{reason}|
/// cat=%s{action}\tdevTime=…`); the web frame follows it. There is no LEEF preset for the other
/// log types, so their frames are what an admin writes in the Custom box: the preset's header
/// and `devTime`, then the log type's NSS variable names as attribute keys, tab-separated.
pub(crate) fn leef_cells() -> Vec<Cell> {
    vec![
        cell(
            "web",
            "zia.web",
            concat!(
                "Jun 20 15:29:11 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Allowed|cat=Allowed\t",
                "devTime=Jun 20 2022 15:29:11 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "src=10.1.2.3\tdst=203.0.113.9\tsrcPostNAT=198.51.100.4\trealm=HQ\t",
                "usrName=jane@example.com\tsrcBytes=598\tdstBytes=14061\trole=Sales\t",
                "policy=Allowed\turl=www.example.com/search?q=zscaler\t",
                "recordid=7219431205364318210\tbwthrottle=NO\t",
                "useragent=Mozilla/5.0 (Windows NT 10.0; Win64; x64)\treferer=None\t",
                "hostname=www.example.com\tappproto=HTTPS\turlcategory=Web Search\t",
                "urlsupercategory=Information Technology\turlclass=Business Use\t",
                "appclass=General Browsing\tappname=General Browsing\tmalwaretype=None\t",
                "malwareclass=None\tthreatname=None\triskscore=0\tdlpdict=None\tdlpeng=None\t",
                "fileclass=None\tfiletype=None\treqmethod=GET\trespcode=200",
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
        // No preset: NSS variable names.
        cell(
            "firewall",
            "zia.firewall",
            concat!(
                "Jun 20 15:35:48 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Drop|",
                "devTime=Jun 20 2022 15:35:48 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "login=jane@example.com\tdept=Sales\tlocation=HQ\tcsip=10.1.2.3\tcsport=51515\t",
                "cdip=203.0.113.5\tcdport=445\tssip=198.51.100.7\tssport=30001\tipproto=TCP\t",
                "nwsvc=SMB\tnwapp=smb\taction=Drop\trulelabel=Block Outbound SMB\tinbytes=0\t",
                "outbytes=176\tdurationms=30\tthreatname=None\tdeviceowner=jane\t",
                "devicehostname=LAPTOP-7",
            ),
            &[
                ("ts", json!("2022-06-20T15:35:48Z")),
                ("user", json!("jane@example.com")),
                ("src_ip", json!("10.1.2.3")),
                ("src_port", json!(51515)),
                ("dst_ip", json!("203.0.113.5")),
                ("dst_port", json!(445)),
                ("action", json!("drop")),
            ],
        ),
        // No preset: NSS variable names.
        cell(
            "dns",
            "zia.dns",
            concat!(
                "Jun 20 14:56:51 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Allow|",
                "devTime=Jun 20 2022 14:56:51 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "login=jane@example.com\tdept=Sales\tlocation=HQ\treqaction=Allow\t",
                "resaction=Allow\treqrulelabel=DNS_1\tresrulelabel=Zscaler Bypass Traffic\t",
                "reqtype=AAAA\treq=login.microsoftonline.com\tres=40.126.32.140\tsport=53\t",
                "durationms=4\tcip=10.1.2.3\tsip=1.1.1.1\tdomcat=Professional Services\t",
                "deviceowner=jane\tdevicehostname=LAPTOP-7",
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
        // No preset: NSS variable names (the tunnel event record).
        cell(
            "tunnel",
            "zia.tunnel",
            concat!(
                "Jun 20 15:10:02 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Tunnel Event|",
                "devTime=Jun 20 2022 15:10:02 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "tunnelactionname=Tunnel Event\ttunneltype=GRE\t",
                "vpncredentialname=hq-gre@example.com\tlocationname=HQ\t",
                "sourceip=198.51.100.20\tdestvip=165.225.104.35\tsrcport=0\tevent=DOWN\t",
                "eventreason=DPD_TIMEOUT\trecordid=7112472280601133057",
            ),
            &[
                ("record_type", json!("Tunnel Event")),
                ("user", json!("hq-gre@example.com")),
                ("src_ip", json!("198.51.100.20")),
                ("dst_ip", json!("165.225.104.35")),
                ("record_id", json!("7112472280601133057")),
            ],
        ),
        // No preset: NSS variable names.
        cell(
            "audit",
            "zia.audit",
            concat!(
                "Jun 20 07:50:48 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|ACTIVATE|",
                "devTime=Jun 20 2022 07:50:48 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "recordid=7536\taction=ACTIVATE\tcategory=ACTIVATION\tsubcategory=ACTIVATION\t",
                "resource=com.zscaler.zdx.service.ActivationService$ActivationStatus\t",
                "interface=UI\tadminid=admin@example.zscalertwo.net\tclientip=10.36.112.101\t",
                "result=SUCCESS\terrorcode=None\tauditlogtype=ZIA\t",
                "epreaction={%22status%22:%22pending%22}\t",
                "epostaction={%22status%22:%22active%22}",
            ),
            &[
                ("user", json!("admin@example.zscalertwo.net")),
                ("category", json!("ACTIVATION")),
                ("client_ip", json!("10.36.112.101")),
                ("result", json!("SUCCESS")),
                ("record_id", json!("7536")),
            ],
        ),
        // No preset: NSS variable names.
        cell(
            "saas",
            "zia.saas",
            concat!(
                "Jun 20 15:35:15 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Quarantine Malware|",
                "devTime=Jun 20 2022 15:35:15 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "recordid=7132869149011804161\tcompany=Example\ttenant=sp-tenant\t",
                "user=jane@example.onmicrosoft.com\tdepartment=Sales\t",
                "applicationname=SHAREPOINT\tfilename=q3-report.pdf\t",
                "filesource=/sites/finance/Shared%20Documents\t",
                "filemd5=01565bf41f1cb993d69334f409835293\tthreatname=None\t",
                "policy=Quarantine Malware\tdlpdictnames=None\tdlpdictcount=None\t",
                "dlpenginenames=None\tfullurl=Unknown URL\tlastmodtime=Thu Jun 16 14:03:13 2022\t",
                "filescantimems=537\tfiledownloadtimems=435",
            ),
            &[
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("sp-tenant")),
                ("app", json!("SHAREPOINT")),
                ("file_md5", json!("01565bf41f1cb993d69334f409835293")),
                ("record_id", json!("7132869149011804161")),
            ],
        ),
        // No preset: the NSS variable names of Zscaler's SaaS Security Activity field table
        // (help.zscaler.com/zia/nss-feed-output-format-saas-security-activity-logs).
        cell(
            "saas_activity",
            "zia.saas_activity",
            concat!(
                "Jun 20 15:40:00 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Download|",
                "devTime=Jun 20 2022 15:40:00 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\t",
                "username=jane@example.onmicrosoft.com\tis_admin_act=0\ttenant=od-tenant\t",
                "objtypename1=File\tobjtypename2=Folder\tappname=ONEDRIVE\t",
                "objnames1=q3-report.pdf\tobjnames2=Finance\tact_cnt=1\tact_type_name=Download\t",
                "extownername=app@sharepoint\tsrc_ip=198.51.100.4",
            ),
            // The variable names of Zscaler's field table (`objtypename1`, `act_type_name`,
            // `act_cnt`, `extownername`).
            &[
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("od-tenant")),
                ("app", json!("ONEDRIVE")),
                ("activity", json!("Download")),
                ("object_type", json!("File")),
                ("object_name", json!("q3-report.pdf")),
                ("object_name_2", json!("Finance")),
                ("activity_count", json!(1)),
                ("admin_activity", json!("0")),
                ("external_owner", json!("app@sharepoint")),
                ("src_ip", json!("198.51.100.4")),
            ],
        ),
    ]
}

#[test]
fn leef_every_zia_log_type() {
    let cells = leef_cells();
    covers_zia(&cells);
    check("LEEF", &cells);
}

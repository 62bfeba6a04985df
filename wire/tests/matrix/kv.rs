use crate::*;
use serde_json::json;

/// ZIA key=value, as Splunk's add-on reads it (tab-separated, no syslog header;
/// splunk/splunk-connect-for-syslog: tests/test_zscaler_proxy.py for web, tests/
/// test_zscaler_tunnel.py for tunnel samples). sc4s routes the other types by a
/// `\tvendor=Zscaler\tproduct=fw|dns|audit` suffix that its docs (docs/sources/vendor/Zscaler/
/// nss.md) tell the admin to append to "the … format"; those formats are not published, so the
/// firewall and DNS frames use the key names of Elastic's JSON templates (the same names
/// Exabeam's key=value firewall parser reads: `csip=`, `cdport=`, `rulelabel=` …) and the audit,
/// SaaS Security and SaaS Security Activity frames those of the Sekoia guide's templates,
/// written as Splunk's pairs. NetWitness's `^^` variant exists for web only (kv.rs reads it).
pub(crate) fn kv_cells() -> Vec<Cell> {
    vec![
        cell(
            "web",
            "zia.web",
            concat!(
                "2022-06-20 15:29:11\treason=Allowed\tevent_id=7219431205364318210\t",
                "protocol=HTTPS\taction=Allowed\ttransactionsize=14659\tresponsesize=14061\t",
                "requestsize=598\turlcategory=Web Search\tserverip=203.0.113.9\t",
                "clienttranstime=0\trequestmethod=GET\trefererURL=None\t",
                "useragent=Mozilla/5.0 (Windows NT 10.0; Win64; x64)\tproduct=NSS\t",
                "location=HQ\tClientIP=10.1.2.3\tstatus=200\tuser=jane@example.com\t",
                "url=www.example.com/search?q=zscaler\tvendor=Zscaler\t",
                "hostname=www.example.com\tclientpublicIP=198.51.100.4\tthreatcategory=None\t",
                "threatname=None\tfiletype=None\tappname=General Browsing\tpagerisk=0\t",
                "department=Sales\turlsupercategory=Information Technology\t",
                "appclass=General Browsing\tdlpengine=None\turlclass=Business Use\t",
                "threatclass=None\tdlpdictionaries=None\tfileclass=None\tbwthrottle=NO\t",
                "servertranstime=0\tmd5=None",
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
        // Elastic's firewall keys and sc4s's suffix.
        cell(
            "firewall",
            "zia.firewall",
            concat!(
                "Mon Jun 20 15:35:48 2022\tuser=jane@example.com\tdepartment=Sales\t",
                "locationname=HQ\tcdport=445\tcsport=51515\tsdport=445\tssport=30001\t",
                "csip=10.1.2.3\tcdip=203.0.113.5\tssip=198.51.100.7\tsdip=203.0.113.5\t",
                "tsip=0.0.0.0\ttunsport=0\ttuntype=GRE\taction=Drop\tdnat=No\tstateful=Yes\t",
                "aggregate=No\tnwsvc=SMB\tnwapp=smb\tproto=TCP\t",
                "ipcat=Miscellaneous or Unknown\tdestcountry=United States\tavgduration=30\t",
                "rulelabel=Block Outbound SMB\tinbytes=0\toutbytes=176\tduration=0\t",
                "durationms=30\tnumsessions=1\tipsrulelabel=None\tthreatcat=None\t",
                "threatname=None\tdeviceowner=jane\tdevicehostname=LAPTOP-7\t",
                "vendor=Zscaler\tproduct=fw",
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
        // Elastic's DNS keys and sc4s's suffix.
        cell(
            "dns",
            "zia.dns",
            concat!(
                "Mon Jun 20 14:56:51 2022\tuser=jane@example.com\tdepartment=Sales\t",
                "location=HQ\treqaction=Allow\tresaction=Allow\treqrulelabel=DNS_1\t",
                "resrulelabel=Zscaler Bypass Traffic\tdns_reqtype=AAAA\t",
                "dns_req=login.microsoftonline.com\tdns_resp=40.126.32.140\tsrv_dport=53\t",
                "durationms=4\tclt_sip=10.1.2.3\tsrv_dip=1.1.1.1\t",
                "category=Professional Services\tdeviceowner=jane\tdevicehostname=LAPTOP-7\t",
                "vendor=Zscaler\tproduct=dns",
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
                "Mon Jun 20 15:10:02 2022\tRecordtype=Tunnel Samples\ttunneltype=GRE\t",
                "user=hq-gre@example.com\tlocation=HQ\tsourceip=198.51.100.20\t",
                "destinationip=165.225.104.35\tsourceport=0\ttxbytes=2595428\trxbytes=753\t",
                "dpdrec=0\tvendor=Zscaler\tproduct=tunnel_sample",
            ),
            &[
                ("record_type", json!("Tunnel Samples")),
                ("user", json!("hq-gre@example.com")),
                ("src_ip", json!("198.51.100.20")),
                ("dst_ip", json!("165.225.104.35")),
                ("bytes_tx", json!(2595428)),
            ],
        ),
        // The Sekoia guide's audit keys and sc4s's suffix.
        cell(
            "audit",
            "zia.audit",
            concat!(
                "Mon Jun 20 07:50:48 2022\trecordid=7536\taction=ACTIVATE\t",
                "category=ACTIVATION\tsubcategory=ACTIVATION\t",
                "resource=com.zscaler.zdx.service.ActivationService$ActivationStatus\t",
                "interface=UI\tadminid=admin@example.zscalertwo.net\tclientip=10.36.112.101\t",
                "result=SUCCESS\terrorcode=None\tauditlogtype=ZIA\t",
                "preaction={%22status%22:%22pending%22}\t",
                "postaction={%22status%22:%22active%22}\tvendor=Zscaler\tproduct=audit",
            ),
            &[
                ("ts", json!("2022-06-20T07:50:48Z")),
                ("user", json!("admin@example.zscalertwo.net")),
                ("category", json!("ACTIVATION")),
                ("client_ip", json!("10.36.112.101")),
                ("result", json!("SUCCESS")),
                ("record_id", json!("7536")),
            ],
        ),
        // No Splunk preset (sc4s has no product for it): the Sekoia guide's keys as pairs.
        cell(
            "saas",
            "zia.saas",
            concat!(
                "datetime=Mon Jun 20 15:35:15 2022\trecordid=7132869149011804161\t",
                "company=Example\ttenant=sp-tenant\tlogin=jane@example.onmicrosoft.com\t",
                "dept=Sales\tapplicationname=SHAREPOINT\tfilename=q3-report.pdf\t",
                "filesource=/sites/finance/Shared%20Documents\t",
                "filemd5=01565bf41f1cb993d69334f409835293\tthreatname=None\t",
                "policy=Quarantine Malware\tdlpdictnames=None\tdlpdictcount=None\t",
                "dlpenginenames=None\tfullurl=Unknown URL\tlastmodtime=Thu Jun 16 14:03:13 2022\t",
                "filescantimems=537\tfiledownloadtimems=435",
            ),
            &[
                ("ts", json!("2022-06-20T15:35:15Z")),
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("sp-tenant")),
                ("app", json!("SHAREPOINT")),
                ("file_md5", json!("01565bf41f1cb993d69334f409835293")),
                ("record_id", json!("7132869149011804161")),
            ],
        ),
        // No Splunk preset: the Sekoia guide's keys as pairs.
        cell(
            "saas_activity",
            "zia.saas_activity",
            concat!(
                "login=jane@example.onmicrosoft.com\ttenant=od-tenant\tobject_type=2\t",
                "applicationname=ONEDRIVE\tobject_name_1=q3-report.pdf\tobject_name_2=Finance",
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
fn kv_every_zia_log_type() {
    let cells = kv_cells();
    covers_zia(&cells);
    check("key=value", &cells);
}

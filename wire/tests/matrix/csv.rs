use crate::*;
use serde_json::json;

/// ZIA positional: NSS's default feed output (every field quoted, comma-separated) in the
/// default field order of each log type (`wire/src/format/csv.rs`, `DEFAULTS`, checked there
/// against the examples of Zscaler's "NSS Feed Output Format" pages), values of the same
/// transactions as the other rows. The admin audit's last two fields hold raw JSON, as
/// Zscaler's own example does.
pub(crate) fn csv_cells() -> Vec<Cell> {
    vec![
        cell(
            "web",
            "zia.web",
            concat!(
                r#""Mon Jun 20 15:29:11 2022","jane@example.com","HTTPS","#,
                r#""www.example.com/search?q=zscaler","Allowed","General Browsing","#,
                r#""General Browsing","598","14061","0","0","Business Use","#,
                r#""Information Technology","Web Search","None","None","0","None","None","HQ","#,
                r#""Sales","10.1.2.3","203.0.113.9","GET","200","#,
                r#""Mozilla/5.0 (Windows NT 10.0; Win64; x64)","None","None","None","text/html","#,
                r#""None","jane","LAPTOP-7","N/A""#,
            ),
            &[
                ("ts", json!("2022-06-20T15:29:11Z")),
                ("user", json!("jane@example.com")),
                ("src_ip", json!("10.1.2.3")),
                ("dst_ip", json!("203.0.113.9")),
                ("http_status", json!(200)),
                ("device", json!("LAPTOP-7")),
            ],
        ),
        cell(
            "firewall",
            "zia.firewall",
            concat!(
                r#""Mon Jun 20 15:35:48 2022","jane@example.com","Sales","HQ","445","51515","#,
                r#""445","30001","10.1.2.3","203.0.113.5","198.51.100.7","203.0.113.5","#,
                r#""0.0.0.0","0","GRE","Drop","No","Yes","No","SMB","smb","TCP","#,
                r#""Miscellaneous or Unknown","United States","30","Block Outbound SMB","0","#,
                r#""176","0","30","1","None","None","None","jane","LAPTOP-7""#,
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
        cell(
            "dns",
            "zia.dns",
            concat!(
                r#""Mon Jun 20 14:56:51 2022","jane@example.com","Sales","HQ","Allow","Allow","#,
                r#""DNS_1","Zscaler Bypass Traffic","AAAA","login.microsoftonline.com","#,
                r#""40.126.32.140","53","4","10.1.2.3","1.1.1.1","Professional Services","#,
                r#""Other","jane","LAPTOP-7""#,
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
                r#""Mon Jun 20 15:10:02 2022","Tunnel Samples","GRE","hq-gre@example.com","HQ","#,
                r#""198.51.100.20","165.225.104.35","0","2","3","160","753","0","#,
                r#""7112472280601133057""#,
            ),
            &[
                ("record_type", json!("Tunnel Samples")),
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
                r#""Mon Jun 20 07:50:48 2022","7536","ACTIVATE","ACTIVATION","ACTIVATION","#,
                r#""com.zscaler.zdx.service.ActivationService$ActivationStatus","UI","#,
                r#""admin@example.zscalertwo.net","10.36.112.101","SUCCESS","None","ZIA","#,
                r#""{"status":"pending"}","{"status":"active"}""#,
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
                r#""Mon Jun 20 15:35:15 2022","7132869149011804161","Example","sp-tenant","#,
                r#""jane@example.onmicrosoft.com","Sales","SHAREPOINT","q3-report.pdf","#,
                r#""/sites/finance/Shared%20Documents","01565bf41f1cb993d69334f409835293","#,
                r#""None","Quarantine Malware","None","None","None","Unknown URL","#,
                r#""Thu Jun 16 14:03:13 2022","537","435""#,
            ),
            &[
                ("ts", json!("2022-06-20T15:35:15Z")),
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("sp-tenant")),
                ("app", json!("SHAREPOINT")),
                ("record_id", json!("7132869149011804161")),
            ],
        ),
        cell(
            "saas_activity",
            "zia.saas_activity",
            concat!(
                r#""jane@example.onmicrosoft.com","od-tenant","2","ONEDRIVE","#,
                r#""[q3-report.pdf,]","None""#,
            ),
            &[
                ("user", json!("jane@example.onmicrosoft.com")),
                ("tenant", json!("od-tenant")),
                ("app", json!("ONEDRIVE")),
                ("object_type", json!("2")),
            ],
        ),
    ]
}

#[test]
fn csv_every_zia_log_type() {
    let cells = csv_cells();
    covers_zia(&cells);
    check("CSV", &cells);
}

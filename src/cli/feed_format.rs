//! The feed templates to paste into the Zscaler portals (`ztel feed-format …`).

/// The NSS "Feed Output Format" for a ZIA Web Log feed, in NSS template syntax: literal braces
/// escaped as `\{` `\}`, variables as `%s{…}` / `%d{…}`. It carries every field the record uses,
/// `epochtime` for an unambiguous time, and the `e…` (hex-encoded) variants wherever NSS has them
/// so that no value can break the JSON.
pub const ZIA_WEB: &str = concat!(
    r#"\{"sourcetype":"zscalernss-web","event":\{"#,
    r#""epochtime":"%d{epochtime}","recordid":"%d{recordid}","elogin":"%s{elogin}","#,
    r#""proto":"%s{proto}","eurl":"%s{eurl}","ehost":"%s{ehost}","action":"%s{action}","#,
    r#""reqmethod":"%s{reqmethod}","respcode":"%s{respcode}","reqsize":"%d{reqsize}","#,
    r#""respsize":"%d{respsize}","cip":"%s{cip}","cintip":"%s{cintip}","sip":"%s{sip}","#,
    r#""urlcat":"%s{urlcat}","deviceowner":"%s{deviceowner}","#,
    r#""devicehostname":"%s{devicehostname}","eua":"%s{eua}","ereferer":"%s{ereferer}","#,
    r#""elocation":"%s{elocation}"\}\}\n"#,
);

/// The optional port fields: only when Zscaler Support has enabled them for the tenant.
pub const ZIA_WEB_PORTS: &str = r#","clt_sport":"%d{clt_sport}","srv_dport":"%d{srv_dport}""#;

/// What `ztel feed-format zia-web` prints: how to set up the feed, then the format on the last
/// line, alone, so that `tail -n 1` gives exactly what to paste.
pub fn zia_web_help() -> String {
    format!(
        "# ZIA Admin Portal > Administration > Nanolog Streaming Service > NSS Feeds > Add NSS Feed\n\
         #   SIEM TCP Port: 1514 (ztel's input.tcp.address), Log Type: Web Log, SIEM Rate: Unlimited\n\
         #   Feed Output Type: Custom\n\
         #   Feed Escape Character: ,\\\"   (comma, backslash, double quote: hex-encoded in URL, host, referer)\n\
         #   Feed Output Format: the last line below, exactly as printed.\n\
         # Optional: if Zscaler Support has enabled the client source and server destination ports,\n\
         # insert\n\
         #   {ZIA_WEB_PORTS}\n\
         # just before the closing \\}}\\}} so that records carry the real ports; without them the\n\
         # client port is the simulated 18000 and the server port comes from the URL or protocol.\n\
         {ZIA_WEB}\n"
    )
}

/// The LSS "Log Stream Content" for a ZPA User Activity log receiver (Log Template: JSON): the
/// default template's fields that a record or attribution uses, plus `Hostname` (newer LSS
/// versions) so that devices are keyed by machine rather than by user. `%j{…}` writes a JSON
/// string, `%d{…}` a number.
pub const ZPA_USER_ACTIVITY: &str = concat!(
    r#"{"LogTimestamp": %j{LogTimestamp:time},"Customer": %j{Customer},"#,
    r#""SessionID": %j{SessionID},"ConnectionID": %j{ConnectionID},"#,
    r#""ConnectionStatus": %j{ConnectionStatus},"IPProtocol": %d{IPProtocol},"#,
    r#""Username": %j{Username},"ClientPublicIP": %j{ClientPublicIP},"#,
    r#""ClientPrivateIP": %j{ClientPrivateIP},"Policy": %j{Policy},"Connector": %j{Connector},"#,
    r#""ConnectorIP": %j{ConnectorIP},"ConnectorPort": %d{ConnectorPort},"Host": %j{Host},"#,
    r#""Application": %j{Application},"AppGroup": %j{AppGroup},"ServerIP": %j{ServerIP},"#,
    r#""ServerPort": %d{ServerPort},"#,
    r#""TimestampConnectionStart": %j{TimestampConnectionStart:iso8601},"#,
    r#""TimestampConnectionEnd": %j{TimestampConnectionEnd:iso8601},"#,
    r#""ZENBytesRxClient": %d{ZENBytesRxClient},"ZENBytesTxClient": %d{ZENBytesTxClient},"#,
    r#""Platform": %j{Platform},"Hostname": %j{Hostname}}\n"#,
);

/// What `ztel feed-format zpa-user-activity` prints; the template is the last line.
pub fn zpa_user_activity_help() -> String {
    format!(
        "# ZPA Admin Portal > Administration > Log Receivers > Add Log Receiver\n\
         #   Log Receiver: this collector's IP; TCP Port 1514 (plain), or 6514 with TLS Encryption\n\
         #   enabled (ztel's input.tls with cert and key; set client_ca for mutual TLS).\n\
         #   Log Stream: Log Type: User Activity, Log Template: JSON,\n\
         #   Log Stream Content: the last line below, exactly as printed.\n\
         {ZPA_USER_ACTIVITY}\n"
    )
}

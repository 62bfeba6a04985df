//! ztel's recommended LSS "Log Stream Content" for each ZPA log type (Log Template: JSON): the
//! fields of Zscaler's default JSON template that a record uses, with LSS's own names as keys.
//! `%j{…}` writes a JSON string (quotes and escapes included), `%d{…}` a number; a time is
//! `:time` (ctime, as the default templates write LogTimestamp) or `:iso8601`.

/// One field: its LSS name and its specifier (`j`, `j:time`, `j:iso8601`, `d`).
pub struct Field(pub &'static str, pub &'static str);

/// User Activity: the default template's fields that a record or attribution uses, plus
/// `Hostname` (newer LSS versions), so that devices are keyed by machine rather than by user.
pub const USER_ACTIVITY: &[Field] = &[
    Field("LogTimestamp", "j:time"),
    Field("Customer", "j"),
    Field("SessionID", "j"),
    Field("ConnectionID", "j"),
    Field("ConnectionStatus", "j"),
    Field("IPProtocol", "d"),
    Field("Username", "j"),
    Field("ClientPublicIP", "j"),
    Field("ClientPrivateIP", "j"),
    Field("Policy", "j"),
    Field("Connector", "j"),
    Field("ConnectorIP", "j"),
    Field("ConnectorPort", "d"),
    Field("Host", "j"),
    Field("Application", "j"),
    Field("AppGroup", "j"),
    Field("ServerIP", "j"),
    Field("ServerPort", "d"),
    Field("TimestampConnectionStart", "j:iso8601"),
    Field("TimestampConnectionEnd", "j:iso8601"),
    Field("ZENBytesRxClient", "d"),
    Field("ZENBytesTxClient", "d"),
    Field("Platform", "j"),
    Field("Hostname", "j"),
];

/// User Status: a client's sessions, which feed the device registry.
pub const USER_STATUS: &[Field] = &[
    Field("LogTimestamp", "j:time"),
    Field("Customer", "j"),
    Field("Username", "j"),
    Field("SessionID", "j"),
    Field("SessionStatus", "j"),
    Field("Version", "j"),
    Field("ZEN", "j"),
    Field("PrivateIP", "j"),
    Field("PublicIP", "j"),
    Field("CountryCode", "j"),
    Field("TimestampAuthentication", "j:iso8601"),
    Field("TimestampUnAuthentication", "j:iso8601"),
    Field("TotalBytesRx", "d"),
    Field("TotalBytesTx", "d"),
    Field("Platform", "j"),
    Field("ClientType", "j"),
    Field("Hostname", "j"),
];

pub const BROWSER_ACCESS: &[Field] = &[
    Field("LogTimestamp", "j:time"),
    Field("ConnectionID", "j"),
    Field("TimestampRequestReceiveStart", "j:iso8601"),
    Field("Method", "j"),
    Field("Protocol", "j"),
    Field("Host", "j"),
    Field("URL", "j"),
    Field("UserAgent", "j"),
    Field("NameID", "j"),
    Field("StatusCode", "d"),
    Field("RequestSize", "d"),
    Field("ResponseSize", "d"),
    Field("Application", "j"),
    Field("AppGroup", "j"),
    Field("ApplicationPort", "d"),
    Field("ClientPublicIp", "j"),
    Field("ClientPublicPort", "d"),
    Field("ClientPrivateIp", "j"),
    Field("Customer", "j"),
    Field("ConnectionStatus", "j"),
    Field("ConnectionReason", "j"),
];

pub const APP_CONNECTOR_STATUS: &[Field] = &[
    Field("LogTimestamp", "j:time"),
    Field("Customer", "j"),
    Field("Connector", "j"),
    Field("ConnectorGroup", "j"),
    Field("SessionID", "j"),
    Field("SessionType", "j"),
    Field("SessionStatus", "j"),
    Field("Version", "j"),
    Field("Platform", "j"),
    Field("ZEN", "j"),
    Field("PrivateIP", "j"),
    Field("PublicIP", "j"),
    Field("CountryCode", "j"),
    Field("TimestampAuthentication", "j:iso8601"),
    Field("TimestampUnAuthentication", "j:iso8601"),
    Field("CPUUtilization", "d"),
    Field("MemUtilization", "d"),
    Field("ServiceCount", "d"),
    Field("TotalBytesRx", "d"),
    Field("TotalBytesTx", "d"),
];

pub const AUDIT: &[Field] = &[
    Field("ModifiedTime", "j:iso8601"),
    Field("CreationTime", "j:iso8601"),
    Field("ModifiedBy", "d"),
    Field("RequestID", "j"),
    Field("SessionID", "j"),
    Field("AuditOldValue", "j"),
    Field("AuditNewValue", "j"),
    Field("AuditOperationType", "j"),
    Field("ObjectType", "j"),
    Field("ObjectName", "j"),
    Field("ObjectID", "d"),
    Field("CustomerID", "d"),
    Field("User", "j"),
];

/// The Log Stream Content: one JSON object per line, in LSS's default spacing.
pub fn format(fields: &[Field]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|Field(name, spec)| {
            let (ty, form) = spec.split_once(':').unwrap_or((spec, ""));
            let form = if form.is_empty() {
                String::new()
            } else {
                format!(":{form}")
            };
            format!(r#""{name}": %{ty}{{{name}{form}}}"#)
        })
        .collect();
    format!("{{{}}}\\n", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_one_ztel_reads() {
        for fields in [
            USER_ACTIVITY,
            USER_STATUS,
            BROWSER_ACCESS,
            APP_CONNECTOR_STATUS,
            AUDIT,
        ] {
            for Field(name, _) in fields {
                assert!(wire::keys::lookup(name).is_some(), "{name}");
            }
        }
    }

    #[test]
    fn specifiers_are_written_as_lss_writes_them() {
        let text = format(&USER_ACTIVITY[..2]);
        assert_eq!(
            text,
            r#"{"LogTimestamp": %j{LogTimestamp:time},"Customer": %j{Customer}}\n"#
        );
    }
}

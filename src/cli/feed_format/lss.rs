//! ztel's recommended LSS "Log Stream Content" for each ZPA log type (Log Template: JSON): the
//! fields of Zscaler's default JSON template that a record uses, with LSS's own names as keys.
//! `%j{…}` writes a JSON string (quotes and escapes included), `%d{…}` a number; a time is
//! `:time` (ctime, as the default templates write LogTimestamp) or `:iso8601`.

/// One field: its key in the line, the LSS variable that fills it and its specifier (`j`,
/// `j:time`, `j:iso8601`, `d`). The key is the variable's name in every default template but
/// Audit's, whose variables are camelCase under capitalised keys (`"User": %j{modifiedByUser}`).
pub struct Field {
    pub key: &'static str,
    pub variable: &'static str,
    pub spec: &'static str,
}

impl Field {
    /// A field whose key is its variable's name.
    const fn same(name: &'static str, spec: &'static str) -> Field {
        Field::named(name, name, spec)
    }

    const fn named(key: &'static str, variable: &'static str, spec: &'static str) -> Field {
        Field {
            key,
            variable,
            spec,
        }
    }
}

/// User Activity: the default template's fields that a record or attribution uses, plus
/// `Hostname` (newer LSS versions), so that devices are keyed by machine rather than by user.
pub const USER_ACTIVITY: &[Field] = &[
    Field::same("LogTimestamp", "j:time"),
    Field::same("Customer", "j"),
    Field::same("SessionID", "j"),
    Field::same("ConnectionID", "j"),
    Field::same("ConnectionStatus", "j"),
    Field::same("IPProtocol", "d"),
    Field::same("Username", "j"),
    Field::same("ClientPublicIP", "j"),
    Field::same("ClientPrivateIP", "j"),
    Field::same("Policy", "j"),
    Field::same("Connector", "j"),
    Field::same("ConnectorIP", "j"),
    Field::same("ConnectorPort", "d"),
    Field::same("Host", "j"),
    Field::same("Application", "j"),
    Field::same("AppGroup", "j"),
    Field::same("ServerIP", "j"),
    Field::same("ServerPort", "d"),
    Field::same("TimestampConnectionStart", "j:iso8601"),
    Field::same("TimestampConnectionEnd", "j:iso8601"),
    Field::same("ZENBytesRxClient", "d"),
    Field::same("ZENBytesTxClient", "d"),
    Field::same("Platform", "j"),
    Field::same("Hostname", "j"),
];

/// User Status: a client's sessions, which feed the device registry.
pub const USER_STATUS: &[Field] = &[
    Field::same("LogTimestamp", "j:time"),
    Field::same("Customer", "j"),
    Field::same("Username", "j"),
    Field::same("SessionID", "j"),
    Field::same("SessionStatus", "j"),
    Field::same("Version", "j"),
    Field::same("ZEN", "j"),
    Field::same("PrivateIP", "j"),
    Field::same("PublicIP", "j"),
    Field::same("CountryCode", "j"),
    Field::same("TimestampAuthentication", "j:iso8601"),
    Field::same("TimestampUnAuthentication", "j:iso8601"),
    Field::same("TotalBytesRx", "d"),
    Field::same("TotalBytesTx", "d"),
    Field::same("Platform", "j"),
    Field::same("ClientType", "j"),
    Field::same("Hostname", "j"),
];

pub const BROWSER_ACCESS: &[Field] = &[
    Field::same("LogTimestamp", "j:time"),
    Field::same("ConnectionID", "j"),
    Field::same("TimestampRequestReceiveStart", "j:iso8601"),
    Field::same("Method", "j"),
    Field::same("Protocol", "j"),
    Field::same("Host", "j"),
    Field::same("URL", "j"),
    Field::same("UserAgent", "j"),
    Field::same("NameID", "j"),
    Field::same("StatusCode", "d"),
    Field::same("RequestSize", "d"),
    Field::same("ResponseSize", "d"),
    Field::same("ApplicationPort", "d"),
    Field::same("ClientPublicIp", "j"),
    Field::same("ClientPublicPort", "d"),
    Field::same("ClientPrivateIp", "j"),
    Field::same("Customer", "j"),
    Field::same("ConnectionStatus", "j"),
    Field::same("ConnectionReason", "j"),
];

pub const APP_CONNECTOR_STATUS: &[Field] = &[
    Field::same("LogTimestamp", "j:time"),
    Field::same("Customer", "j"),
    Field::same("Connector", "j"),
    Field::same("ConnectorGroup", "j"),
    Field::same("SessionID", "j"),
    Field::same("SessionType", "j"),
    Field::same("SessionStatus", "j"),
    Field::same("Version", "j"),
    Field::same("Platform", "j"),
    Field::same("ZEN", "j"),
    Field::same("PrivateIP", "j"),
    Field::same("PublicIP", "j"),
    Field::same("CountryCode", "j"),
    Field::same("TimestampAuthentication", "j:iso8601"),
    Field::same("TimestampUnAuthentication", "j:iso8601"),
    Field::same("CPUUtilization", "d"),
    Field::same("MemUtilization", "d"),
    Field::same("ServiceCount", "d"),
    Field::same("TotalBytesRx", "d"),
    Field::same("TotalBytesTx", "d"),
];

/// Audit: Zscaler's default template's variables (`GET …/lssConfig/logType/formats`,
/// `zpn_audit_log`) under its keys.
pub const AUDIT: &[Field] = &[
    Field::named("ModifiedTime", "modifiedTime", "j:iso8601"),
    Field::named("CreationTime", "creationTime", "j:iso8601"),
    Field::named("ModifiedBy", "modifiedBy", "d"),
    Field::named("RequestID", "requestId", "j"),
    Field::named("SessionID", "sessionId", "j"),
    Field::named("AuditOldValue", "auditOldValue", "j"),
    Field::named("AuditNewValue", "auditNewValue", "j"),
    Field::named("AuditOperationType", "auditOperationType", "j"),
    Field::named("ObjectType", "objectType", "j"),
    Field::named("ObjectName", "objectName", "j"),
    Field::named("ObjectID", "objectId", "d"),
    Field::named("CustomerID", "customerId", "d"),
    Field::named("User", "modifiedByUser", "j"),
];

/// The Log Stream Content: one JSON object per line, in LSS's default spacing.
pub fn format(fields: &[Field]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|field| {
            let (ty, form) = field.spec.split_once(':').unwrap_or((field.spec, ""));
            let form = if form.is_empty() {
                String::new()
            } else {
                format!(":{form}")
            };
            format!(r#""{}": %{ty}{{{}{form}}}"#, field.key, field.variable)
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
            for field in fields {
                assert!(wire::keys::lookup(field.key).is_some(), "{}", field.key);
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

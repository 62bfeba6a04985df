//! ZPA's positional output: the CSV and TSV log templates of the Log Streaming Service, whose
//! fields are named by their place, as the JSON template names them.
//!
//! **Orders.** Each is the default template of its log type as the ZPA API hands it to the admin
//! portal ("Getting Details of All LSS Log Formats", `GET …/lssConfig/logType/formats`, on
//! Zscaler's help page "Managing Log Streaming Service Configurations Using API",
//! help.zscaler.com/zpa/managing-log-streaming-service-configurations-using-api): `zpn_trans_log`
//! (User Activity), `zpn_auth_log` (User Status), `zpn_http_trans_log` (Browser Access),
//! `zpn_ast_auth_log` (App Connector Status), `zpn_audit_log` (Audit). A type's CSV, TSV and
//! JSON templates list the same variables in the same order; the names here are the keys the
//! JSON template gives them (`%s{c2c}` is `ClientToClient`, `%s{modifiedByUser}` is `User`), so
//! that a positional line fills the slots its JSON line fills. The "About … Log Fields" pages'
//! tables and example logs list the same fields in the same order (some pages' examples are
//! older or newer field sets), and Google SecOps' User Activity sample
//! (`google-secops-doc-zpa-user-activity.log`) is the User Activity template up to
//! `AppMicroTenantID`.
//!
//! **The lead.** Every template starts with static text before its first delimiter,
//! `%s{LogTimestamp:time} User Activity zpa-lss: ` (Audit's is `Audit zpa-lss: `, no time):
//! the first field holds the time, the log type's label and the tag `zpa-lss:`. A syslog header
//! reader takes `Fri May 31 17:35:42 2019 User` for a stamp and a host, so the first field may
//! hold what is left (`Activity zpa-lss: `), the whole of it (behind a relay's own header), or,
//! in a template edited to quote its values, only the time (`"Fri May 31 17:35:42 2019"`).
//!
//! **Commas in values.** LSS writes `%s` values as they are: a value with a comma in it is two
//! fields of a CSV line. User Activity's `ConnectionID` always has one (`<SessionID>,<id>`), so
//! its comma-separated order reads two fields for it. Audit's old and new values are JSON
//! objects of several keys: their braces tell where they end ([`json`](super::json)). Lists
//! (User Status' postures and trusted networks, SAML attributes) of more than one item make the
//! field count wrong, and nothing tells where they end: such a line is read by the columns
//! around them ([`lists`](super::lists)). A comma in another value (a customer `Acme, Inc.`) is
//! read where one reading alone fits the columns that hold none ([`commas`](super::commas)).
//! TSV and quoted values are not concerned.

use crate::kind::Kind;

/// The tag that ends every template's lead.
const TAG: &str = "zpa-lss:";

/// A log type's default template: its kind, the label its lead names, the JSON key of each
/// field in order (`""` for Audit's lead, which holds no field), and the field whose value
/// holds a comma in every record, if one does, with the field that its part before the comma
/// repeats (`ConnectionID` is `<SessionID>,<id>`), the columns whose values are lists, and
/// the columns whose every value starts with a text of ZPA's (a status code, a client type),
/// which a value that a comma moved there lacks.
pub(super) struct Template {
    pub kind: Kind,
    pub label: &'static str,
    pub names: &'static [&'static str],
    pub comma: Option<(&'static str, &'static str)>,
    pub lists: Option<Lists>,
    pub starts: &'static [(&'static str, &'static str)],
}

/// A run of columns whose values are lists that LSS's CSV template joins with commas
/// (`%s(,){PosturesHit}`), from `first` to `last`. The template's `starts` before them are its
/// anchors: one just before the lists, one near the line's start, after the username
/// ([`super::lists`] says why).
pub(super) struct Lists {
    pub first: &'static str,
    pub last: &'static str,
}

#[rustfmt::skip]
pub(super) const TEMPLATES: [Template; 5] = [
    Template {
        kind: Kind::ZpaUserActivity,
        label: "User Activity",
        names: &[
            "LogTimestamp", "Customer", "SessionID", "ConnectionID", "InternalReason",
            "ConnectionStatus", "IPProtocol", "DoubleEncryption", "Username", "ServicePort",
            "ClientPublicIP", "ClientPrivateIP", "ClientLatitude", "ClientLongitude",
            "ClientCountryCode", "ClientZEN", "Policy", "Connector", "ConnectorZEN",
            "ConnectorIP", "ConnectorPort", "Host", "Application", "AppGroup", "Server",
            "ServerIP", "ServerPort", "PolicyProcessingTime", "ServerSetupTime",
            "TimestampConnectionStart", "TimestampConnectionEnd", "TimestampCATx",
            "TimestampCARx", "TimestampAppLearnStart", "TimestampZENFirstRxClient",
            "TimestampZENFirstTxClient", "TimestampZENLastRxClient", "TimestampZENLastTxClient",
            "TimestampConnectorZENSetupComplete", "TimestampZENFirstRxConnector",
            "TimestampZENFirstTxConnector", "TimestampZENLastRxConnector",
            "TimestampZENLastTxConnector", "ZENTotalBytesRxClient", "ZENBytesRxClient",
            "ZENTotalBytesTxClient", "ZENBytesTxClient", "ZENTotalBytesRxConnector",
            "ZENBytesRxConnector", "ZENTotalBytesTxConnector", "ZENBytesTxConnector", "Idp",
            "ClientToClient", "ClientCity", "MicroTenantID", "AppMicroTenantID",
            "PRAConnectionID", "PRAConsoleType", "PRAApprovalID", "PRACapabilityPolicyID",
            "PRACredentialPolicyID", "PRACredentialUserName", "PRACredentialLoginType",
            "PRAErrorStatus", "PRAFileTransferList", "PRARecordingStatus", "PRASharedUsersList",
            "PRASessionType", "PRASharedMode",
        ],
        comma: Some(("ConnectionID", "SessionID")),
        lists: None,
        starts: &[],
    },
    Template {
        kind: Kind::ZpaUserStatus,
        label: "User Status",
        names: &[
            "LogTimestamp", "Customer", "Username", "SessionID", "SessionStatus", "Version",
            "ZEN", "CertificateCN", "PrivateIP", "PublicIP", "Latitude", "Longitude",
            "CountryCode", "TimestampAuthentication", "TimestampUnAuthentication",
            "TotalBytesRx", "TotalBytesTx", "Idp", "Hostname", "Platform", "ClientType",
            "TrustedNetworks", "TrustedNetworksNames", "SAMLAttributes", "PosturesHit",
            "PosturesMiss", "ZENLatitude", "ZENLongitude", "ZENCountryCode", "FQDNRegistered",
            "FQDNRegisteredError", "City", "MicroTenantID",
        ],
        comma: None,
        lists: Some(Lists {
            first: "TrustedNetworks",
            last: "PosturesMiss",
        }),
        // Every SessionStatus is `ZPN_STATUS_<status>` (AUTHENTICATED, DISCONNECTED,
        // AUTH_FAILED: LSS's status codes), every ClientType `zpn_client_type_<kind>` (zapp,
        // exporter, ip_anchoring…).
        starts: &[("SessionStatus", "ZPN_STATUS_"), ("ClientType", "zpn_client_type_")],
    },
    Template {
        kind: Kind::ZpaBrowserAccess,
        label: "Browser Access",
        names: &[
            "LogTimestamp", "ConnectionID", "Exporter", "TimestampRequestReceiveStart",
            "TimestampRequestReceiveHeaderFinish", "TimestampRequestReceiveFinish",
            "TimestampRequestTransmitStart", "TimestampRequestTransmitFinish",
            "TimestampResponseReceiveStart", "TimestampResponseReceiveFinish",
            "TimestampResponseTransmitStart", "TimestampResponseTransmitFinish",
            "TotalTimeRequestReceive", "TotalTimeRequestTransmit", "TotalTimeResponseReceive",
            "TotalTimeResponseTransmit", "TotalTimeConnectionSetup", "TotalTimeServerResponse",
            "Method", "Protocol", "Host", "URL", "UserAgent", "XFF", "NameID", "StatusCode",
            "RequestSize", "ResponseSize", "ApplicationPort", "ClientPublicIp",
            "ClientPublicPort", "ClientPrivateIp", "Customer", "ConnectionStatus",
            "ConnectionReason", "Origin", "CorsToken",
        ],
        comma: None,
        lists: None,
        starts: &[],
    },
    Template {
        kind: Kind::ZpaAppConnectorStatus,
        label: "Connector Status",
        names: &[
            "LogTimestamp", "Customer", "SessionID", "SessionType", "SessionStatus", "Version",
            "Platform", "ZEN", "Connector", "ConnectorGroup", "PrivateIP", "PublicIP",
            "Latitude", "Longitude", "CountryCode", "TimestampAuthentication",
            "TimestampUnAuthentication", "CPUUtilization", "MemUtilization", "ServiceCount",
            "InterfaceDefRoute", "DefRouteGW", "PrimaryDNSResolver", "HostStartTime",
            "ConnectorStartTime", "NumOfInterfaces", "BytesRxInterface", "PacketsRxInterface",
            "ErrorsRxInterface", "DiscardsRxInterface", "BytesTxInterface",
            "PacketsTxInterface", "ErrorsTxInterface", "DiscardsTxInterface", "TotalBytesRx",
            "TotalBytesTx", "MicroTenantID",
        ],
        comma: None,
        lists: None,
        // Every SessionType is `ZPN_<kind>` (ZPN_ASSISTANT_BROKER_CONTROL, …_LOG), every
        // SessionStatus `ZPN_STATUS_<status>`.
        starts: &[("SessionType", "ZPN_"), ("SessionStatus", "ZPN_STATUS_")],
    },
    Template {
        kind: Kind::ZpaAudit,
        label: "Audit",
        names: &[
            "", "ModifiedTime", "CreationTime", "ModifiedBy", "RequestID", "SessionID",
            "AuditOldValue", "AuditNewValue", "AuditOperationType", "ObjectType", "ObjectName",
            "ObjectID", "CustomerID", "User", "ClientAuditUpdate",
        ],
        comma: None,
        lists: None,
        starts: &[],
    },
];

/// How LSS's default templates write a field, where that tells something of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    /// `%d`: digits.
    Digits,
    /// `%f`: a decimal (`45.000000`).
    Decimal,
    /// `%j` in the CSV template (Browser Access's agent and reason): a JSON string, quoted,
    /// its quotes and backslashes escaped, where the TSV template writes `%s`.
    JsonInCsv,
    /// An id that ZPA makes (`cKgzUERSLl09Y+ytH8v5`: letters, digits, `+/=`): never a comma.
    Id,
    /// `%s{…:iso8601}`: an ISO 8601 time (`2019-05-30T08:20:42.230Z`) or nothing.
    Time,
    Text,
}

/// The fields the default templates write with `%d`. Left out: Audit's `ModifiedBy`, `%d` in
/// CSV only, and its `ClientAuditUpdate`, a flag that lines in other hands write `false`.
#[rustfmt::skip]
const DIGITS: &[&str] = &[
    // User Activity.
    "IPProtocol", "DoubleEncryption", "ServicePort", "ConnectorPort", "ServerPort",
    "PolicyProcessingTime", "ServerSetupTime", "ZENTotalBytesRxClient", "ZENBytesRxClient",
    "ZENTotalBytesTxClient", "ZENBytesTxClient", "ZENTotalBytesRxConnector",
    "ZENBytesRxConnector", "ZENTotalBytesTxConnector", "ZENBytesTxConnector", "PRAApprovalID",
    "PRACapabilityPolicyID", "PRACredentialPolicyID",
    // User Status and App Connector Status.
    "TotalBytesRx", "TotalBytesTx", "CPUUtilization", "MemUtilization", "ServiceCount",
    "NumOfInterfaces", "BytesRxInterface", "PacketsRxInterface", "ErrorsRxInterface",
    "DiscardsRxInterface", "BytesTxInterface", "PacketsTxInterface", "ErrorsTxInterface",
    "DiscardsTxInterface",
    // Browser Access.
    "TotalTimeRequestReceive", "TotalTimeRequestTransmit", "TotalTimeResponseReceive",
    "TotalTimeResponseTransmit", "TotalTimeConnectionSetup", "TotalTimeServerResponse",
    "StatusCode", "RequestSize", "ResponseSize", "ApplicationPort", "ClientPublicPort",
    // Audit.
    "ObjectID", "CustomerID",
];

/// How the default templates write the field the JSON template names `name`: what keeps a
/// line whose values a comma shifted, or a line of a log type of the same field count
/// (Private Service Edge and Private Cloud Controller Status have App Connector Status's 37,
/// with an address where it has a latitude), out of an order.
pub(super) fn written(name: &str) -> Written {
    if DIGITS.contains(&name) {
        Written::Digits
    } else if name.ends_with("Latitude") || name.ends_with("Longitude") {
        Written::Decimal
    } else if matches!(name, "UserAgent" | "ConnectionReason") {
        Written::JsonInCsv
    } else if name == "SessionID" {
        Written::Id
    } else if name.starts_with("Timestamp") || matches!(name, "ModifiedTime" | "CreationTime") {
        Written::Time
    } else {
        Written::Text
    }
}

/// What a first field says of its log type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lead<'v> {
    /// No `zpa-lss:` tag: the value is what it is (a bare time, or a ZIA field).
    Untagged,
    /// The tag after `label`, and before the label the time (if any).
    Labelled(&'v str),
    /// The tag after the last words of `label` alone: a syslog header reader took the time and
    /// the label's first word for its stamp and host, and the header's stamp is the time.
    Cut,
    /// The tag after another log type's label.
    Other,
}

/// Reads the first field of a line as the lead of a template labelled `label`.
pub(super) fn lead<'v>(value: &'v str, label: &str) -> Lead<'v> {
    let Some(before) = value.trim_end().strip_suffix(TAG) else {
        return Lead::Untagged;
    };
    let mut rest = before.trim_end();
    let mut matched = 0;
    for word in label.rsplit(' ') {
        match rest.strip_suffix(word) {
            // A whole word: `Status` must not end `UserStatus`.
            Some(r) if r.is_empty() || r.ends_with(' ') => {
                rest = r.trim_end();
                matched += 1;
            }
            _ => break,
        }
    }
    // The whole label, or its last words with nothing before them (a header reader took the
    // time and the first word for a stamp and a host).
    let words = label.split(' ').count();
    if matched == words {
        Lead::Labelled(rest.trim_start())
    } else if matched > 0 && rest.is_empty() {
        Lead::Cut
    } else {
        Lead::Other
    }
}

/// Whether `value`, a line's first field, names the log type of `label`: its tag after the
/// label, or after the label's last words where a syslog header reader took the rest.
pub(super) fn names(value: &str, label: &str) -> bool {
    matches!(lead(value, label), Lead::Labelled(_) | Lead::Cut)
}

/// Whether the first field is a lead that names a log type with no order here (Private
/// Service Edge and Private Cloud Controller Status and Metrics, App Connector Metrics, the
/// inspection logs, AppProtection): its line is `unknown_type`, not a miscounted line of ours.
pub(super) fn unknown_label(value: &str) -> bool {
    tagged(value)
        && TEMPLATES
            .iter()
            .all(|t| lead(value, t.label) == Lead::Other)
}

/// Whether the first field ends with the tag of some template: no ZIA record's does.
pub(super) fn tagged(value: &str) -> bool {
    value.trim_end().ends_with(TAG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_as_a_header_reader_leaves_them() {
        let label = "User Activity";
        let cases = [
            ("Activity zpa-lss: ", Lead::Cut),
            ("User Activity zpa-lss: ", Lead::Labelled("")),
            (
                "Fri May 31 17:35:42 2019 User Activity zpa-lss: ",
                Lead::Labelled("Fri May 31 17:35:42 2019"),
            ),
            ("Fri May 31 17:35:42 2019", Lead::Untagged),
            ("Status zpa-lss: ", Lead::Other),
            ("Connector Status zpa-lss:", Lead::Other),
            (
                "Mon Jun 20 15:43:10 2022 Connector Activity zpa-lss: ",
                Lead::Other,
            ),
        ];
        for (value, want) in cases {
            assert_eq!(lead(value, label), want, "{value:?}");
        }
        assert_eq!(lead("Audit zpa-lss: ", "Audit"), Lead::Labelled(""));
        assert_eq!(lead("Access zpa-lss:", "Browser Access"), Lead::Cut);
    }

    #[test]
    fn every_name_is_a_key_of_the_lss_json_templates_or_none_at_all() {
        // A name another dialect knows and LSS does not would fill a slot the JSON line leaves
        // empty.
        for t in &TEMPLATES {
            for name in t.names {
                let lss = crate::keys::lss::KEYS.iter().any(|k| k.name == *name);
                assert!(lss || crate::keys::lookup(name).is_none(), "{name}");
            }
        }
        // A template with lists has its two anchors before them (`lists.rs` says why).
        for t in TEMPLATES.iter().filter(|t| t.lists.is_some()) {
            let place = |name: &str| t.names.iter().position(|n| *n == name);
            let first = t
                .lists
                .as_ref()
                .and_then(|l| place(l.first))
                .expect("its lists");
            let before = |name: &&str| place(name).is_some_and(|at| at < first);
            assert_eq!(t.starts.iter().filter(|(name, _)| before(name)).count(), 2);
        }
        let widths: Vec<usize> = TEMPLATES.iter().map(|t| t.names.len()).collect();
        assert_eq!(widths, [69, 33, 37, 37, 15]);
    }
}

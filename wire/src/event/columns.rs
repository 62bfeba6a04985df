//! The log types whose records carry their fields as they are (DESIGN §2.4 "event records"):
//! ZIA Tunnel, Admin Audit, SaaS Security and SaaS Security Activity, ZPA App Connector Status,
//! Audit and AppProtection. Each is a table of columns, record key and the field it shows, in
//! record order; one writer serves them all (`record::columns`).

use jiff::Timestamp;

use super::{lss_other_time, lss_time, zia_other_time, zia_time, Context, Facts, Kind, Reason};
use crate::fields::Fields;
use crate::keys::Field;

/// How a column's value is written: one JSON type per key, whatever the feed sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A string, decoded as its key says.
    Text,
    /// A ZIA address, written in its one text ([`crate::device::record_ip`]).
    Address,
    /// A ZPA address, which LSS writes `0` when there is none: absent then.
    ZpaAddress,
    /// A number.
    Number,
    /// A number with a fraction (a latitude).
    Decimal,
    /// An id: digits in a string, since ids exceed 2^53 (JSON readers using doubles).
    Id,
    /// A port, 1 to 65535.
    Port,
    /// A time, as RFC 3339 UTC (LSS times are UTC, NSS ones in the feed's zone).
    Time,
}

/// One column: the record's key (as written, `,"name":"`: see
/// [`Key`](crate::record::json::Key)), the field it shows, how.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub field: Field,
    pub ty: Ty,
}

macro_rules! columns {
    ($($name:literal $field:ident $ty:ident,)*) => {
        &[$(Column { key: concat!(",\"", $name, "\":\""), field: Field::$field, ty: Ty::$ty },)*]
    };
}

/// ZIA tunnel records. Their counters are Zscaler's, named by its side as its docs and
/// templates do (`rxbytes`: received by Zscaler from the customer's end, `txbytes`: sent to it),
/// so `bytes_rx`/`bytes_tx` as in `zpa.user_status`: `bytes_in`, which means bytes to the client
/// in every other kind, would have said the opposite here.
#[rustfmt::skip]
const TUNNEL: &[Column] = columns![
    "user" Login Text, "location" Location Text, "record_type" RecordType Text,
    "tunnel_type" TunnelType Text, "src_ip" ClientIp Address, "src_port" ClientPort Port,
    "dst_ip" ServerIp Address, "dst_port" ServerPort Port, "event" TunnelEvent Text,
    "event_reason" EventReason Text, "ike_version" IkeVersion Text, "lifetime" Lifetime Number,
    "life_bytes" LifeBytes Number, "spi_in" SpiIn Id, "spi_out" SpiOut Id, "spi" Spi Id,
    "algo" Algo Text, "authentication" Authentication Text, "auth_type" AuthType Text,
    "protocol" Proto Text, "tunnel_protocol" TunnelProtocol Text,
    "policy_direction" PolicyDirection Text, "src_ip_start" SrcIpStart Address,
    "src_ip_end" SrcIpEnd Address, "dst_ip_start" DstIpStart Address, "dst_ip_end" DstIpEnd Address,
    "src_port_start" SrcPortStart Port, "dst_port_start" DstPortStart Port,
    "vendor" Vendor Text, "bytes_rx" BytesIn Number, "bytes_tx" BytesOut Number,
    "packets_rx" PacketsIn Number, "packets_tx" PacketsOut Number,
    "dpd_received" DpdRec Number, "record_id" RecordId Id,
];

#[rustfmt::skip]
const AUDIT: &[Column] = columns![
    "user" Login Text, "action" Action Text, "category" Category Text,
    "subcategory" Subcategory Text, "resource" Resource Text, "interface" Interface Text,
    "client_ip" ClientIp Address, "result" Result Text, "error_code" ErrorCode Text,
    "audit_type" AuditLogType Text, "pre_action" PreAction Text, "post_action" PostAction Text,
    "record_id" RecordId Id,
];

#[rustfmt::skip]
const SAAS: &[Column] = columns![
    "user" Login Text, "department" Department Text, "company" Company Text,
    "tenant" Tenant Text, "app" App Text, "file_name" FileName Text,
    "file_source" FileSource Text, "file_md5" FileMd5 Text, "threat" Threat Text,
    "policy" Policy Text, "rule" Rule Text, "dlp_dictionaries" DlpDictionaries Text,
    "dlp_dict_count" DlpDictCount Text, "dlp_engines" DlpEngines Text, "url" Url Text,
    "last_modified" LastModified Time, "scan_time_ms" ScanTimeMs Number,
    "download_time_ms" DownloadTimeMs Number, "record_id" RecordId Id,
];

#[rustfmt::skip]
const SAAS_ACTIVITY: &[Column] = columns![
    "user" Login Text, "tenant" Tenant Text, "app" App Text, "activity" ActivityType Text,
    "object_type" ObjectType Text, "object_name" ObjectName Text,
    "object_name_2" ObjectName2 Text, "activity_count" ActivityCount Number,
    "admin_activity" AdminActivity Text, "external_owner" ExternalOwner Text,
    "src_ip" ClientIp Address, "record_id" RecordId Id,
];

#[rustfmt::skip]
const CONNECTOR_STATUS: &[Column] = columns![
    "connector" Connector Text, "connector_group" ConnectorGroup Text,
    "session_id" SessionId Text, "session_type" SessionType Text, "status" SessionStatus Text,
    "version" Version Text, "platform" Platform Text, "zen" Zen Text,
    "private_ip" ClientPrivateIp ZpaAddress, "public_ip" ClientPublicIp ZpaAddress,
    "country" CountryCode Text, "authenticated_at" AuthenticatedAt Time,
    "unauthenticated_at" UnauthenticatedAt Time, "cpu_utilization" CpuUtilization Number,
    "mem_utilization" MemUtilization Number, "service_count" ServiceCount Number,
    "interface" InterfaceDefRoute Text, "default_gateway" DefRouteGw ZpaAddress,
    "dns_resolver" PrimaryDnsResolver ZpaAddress, "host_started_at" HostStartTime Time,
    "connector_started_at" ConnectorStartTime Time, "interfaces" NumInterfaces Number,
    "interface_bytes_rx" BytesRxInterface Number,
    "interface_packets_rx" PacketsRxInterface Number,
    "interface_errors_rx" ErrorsRxInterface Number,
    "interface_discards_rx" DiscardsRxInterface Number,
    "interface_bytes_tx" BytesTxInterface Number,
    "interface_packets_tx" PacketsTxInterface Number,
    "interface_errors_tx" ErrorsTxInterface Number,
    "interface_discards_tx" DiscardsTxInterface Number,
    "bytes_rx" TotalBytesRx Number, "bytes_tx" TotalBytesTx Number, "customer" Company Text,
    "latitude" Latitude Decimal, "longitude" Longitude Decimal, "microtenant_id" MicroTenantId Text,
];

#[rustfmt::skip]
const ZPA_AUDIT: &[Column] = columns![
    "user" Username Text, "modified_by" ModifiedBy Id, "operation" OperationType Text,
    "object_type" ObjectType Text, "object_name" ObjectName Text, "object_id" ObjectId Id,
    "request_id" RequestId Text, "session_id" SessionId Text, "old_value" OldValue Text,
    "new_value" NewValue Text, "created" CreationTime Time,
];

/// ZPA AppProtection: one inspected HTTP exchange. Its ids (application, policy, profile) are
/// numbers beyond 2^53 in LSS's JSON, kept as their digits.
#[rustfmt::skip]
const APP_PROTECTION: &[Column] = columns![
    "user" Username Text, "client_public_ip" ClientPublicIp ZpaAddress,
    "client_public_port" ClientPort Port,
    "dst_host" ZpaHost Text, "domain" Domain Text, "method" Method Text, "url" Url Text,
    "protocol" Proto Text, "http_status" RespCode Number, "http_error" HttpError Text,
    "user_agent" UserAgent Text, "app" Application Text, "app_group" AppGroup Text,
    "inspection_policy" Policy Text, "inspection_profile" InspectionProfile Text,
    "paranoia_level" ParanoiaLevel Number, "controls_hit" ControlsHit Number,
    "request_header_bytes" RequestHeaderBytes Number,
    "request_body_bytes" RequestBodyBytes Number,
    "response_header_bytes" ResponseHeaderBytes Number,
    "response_body_bytes" ResponseBodyBytes Number, "connection_id" ConnectionId Text,
    "customer" Company Text,
];

/// The columns of a kind's record, or `None` for the connection and session kinds, which have
/// events of their own.
pub fn of(kind: Kind) -> Option<&'static [Column]> {
    Some(match kind {
        Kind::ZiaTunnel => TUNNEL,
        Kind::ZiaAudit => AUDIT,
        Kind::ZiaSaas => SAAS,
        Kind::ZiaSaasActivity => SAAS_ACTIVITY,
        Kind::ZpaAppConnectorStatus => CONNECTOR_STATUS,
        Kind::ZpaAudit => ZPA_AUDIT,
        Kind::ZpaAppProtection => APP_PROTECTION,
        _ => return None,
    })
}

/// The time of a record of such a kind; its facts (these kinds name no device).
pub fn facts(kind: Kind, f: &Fields<'_>, ctx: &Context<'_>) -> Result<Facts<'static>, Reason> {
    let ts = if !kind.is_zpa() {
        zia_time(f, ctx)?
    } else {
        let first: &[Field] = match kind {
            // IBM's LEEF writes the modified time as `devTime`, LSS's own name for a log's time:
            // before the creation time, as the JSON's `ModifiedTime` is.
            Kind::ZpaAudit => &[
                Field::ModifiedTime,
                Field::LogTimestamp,
                Field::CreationTime,
            ],
            // When the request came (epoch microseconds), to the second otherwise.
            Kind::ZpaAppProtection => &[Field::RequestReceived, Field::LogTimestamp],
            _ => &[Field::LogTimestamp],
        };
        let mut ts = None;
        for &field in first {
            if ts.is_some() {
                break;
            }
            ts = match (kind, field) {
                // An audit's `devTime` that does not read leaves its creation time to date it,
                // as before it was read at all (a bad time is a dead letter elsewhere).
                (Kind::ZpaAudit, Field::LogTimestamp) => lss_other_time(f, field),
                _ => lss_time(f, field)?,
            };
        }
        super::lss_or_header_time(ts, ctx)?
    };
    Ok(Facts {
        kind,
        ts,
        device: None,
        flow: None,
    })
}

/// A time column's value: `None` when absent, and when unreadable. The record's own time decides
/// between a record and a `bad_time` dead letter; a column's is one value of it, left out rather
/// than losing the record (as a port out of range is).
pub fn time(kind: Kind, f: &Fields<'_>, field: Field, ctx: &Context<'_>) -> Option<Timestamp> {
    if kind.is_zpa() {
        lss_other_time(f, field)
    } else {
        zia_other_time(f, field, ctx)
    }
}

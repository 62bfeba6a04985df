//! ZPA's Log Streaming Service templates (User Activity, User Status, Browser Access, App
//! Connector Status, Audit, AppProtection): CamelCase keys, numbers as JSON numbers. Keys of the
//! LSS log types ztel has no record for are here too, so that their frames are `unknown_type`.

use super::Key;

#[rustfmt::skip]
pub const KEYS: &[Key] = crate::dialect! {
    // Every type.
    "LogTimestamp" => LogTimestamp; zpa;
    "Customer" => Company; zpa;
    "SessionID" => SessionId; zpa;
    "Username" => Username; zpa;
    "Hostname" => Hostname; zpa;
    "EventType" => EventType; zpa;
    "Idp" => Idp; zpa;
    "Platform" => Platform; zpa;
    "Policy" => Policy; zpa;
    "Connector" => Connector; zpa;
    "Host" => ZpaHost; zpa;
    "ConnectionID" => ConnectionId; zpa;
    "ConnectionStatus" => ConnStatus; zpa;
    "SessionStatus" => SessionStatus; zpa;
    "Version" => Version; zpa;
    "ZEN" => Zen; zpa;
    "PrivateIP" => ClientPrivateIp; zpa;
    "PublicIP" => ClientPublicIp; zpa;
    "CountryCode" => CountryCode; zpa;
    "TimestampAuthentication" => AuthenticatedAt; zpa;
    "TimestampUnAuthentication" => UnauthenticatedAt; zpa;
    "TotalBytesRx" => TotalBytesRx; zpa;
    "TotalBytesTx" => TotalBytesTx; zpa;
    // User Activity.
    "TimestampConnectionStart" => ConnStart; k(ZpaUserActivity);
    "TimestampConnectionEnd" => ConnEnd; k(ZpaUserActivity);
    "ClientPublicIP" => ClientPublicIp; k(ZpaUserActivity);
    "ClientPrivateIP" => ClientPrivateIp; k(ZpaUserActivity);
    "ConnectorIP" => ConnectorIp; k(ZpaUserActivity);
    "ConnectorPort" => ConnectorPort; k(ZpaUserActivity);
    "ServerIP" => ZpaServerIp; k(ZpaUserActivity);
    "ServerPort" => ZpaServerPort; k(ZpaUserActivity);
    "IPProtocol" => IpProtocol; k(ZpaUserActivity);
    "Application" => Application; k(ZpaUserActivity);
    "AppGroup" => AppGroup; k(ZpaUserActivity);
    "ZENBytesRxClient" => BytesRxClient; k(ZpaUserActivity);
    "ZENBytesTxClient" => BytesTxClient; k(ZpaUserActivity);
    "ClientZEN" => Other; k(ZpaUserActivity);
    "ConnectorZEN" => Other; k(ZpaUserActivity);
    "DoubleEncryption" => Other; k(ZpaUserActivity);
    "ServicePort" => Other; k(ZpaUserActivity);
    // User Status.
    "CertificateCN" => Other; k(ZpaUserStatus);
    "ClientType" => ClientType; k(ZpaUserStatus);
    "SAMLAttributes" => Other; k(ZpaUserStatus);
    "PosturesHit" => Other; k(ZpaUserStatus);
    "PosturesMiss" => Other; k(ZpaUserStatus);
    "TrustedNetworks" => Other; k(ZpaUserStatus);
    "FQDNRegistered" => Other; k(ZpaUserStatus);
    // Browser Access.
    "Exporter" => Other; k(ZpaBrowserAccess);
    "TimestampRequestReceiveStart" => RequestReceived; k(ZpaBrowserAccess);
    "Method" => Method; k(ZpaBrowserAccess);
    "Protocol" => Proto; k(ZpaBrowserAccess);
    "URL" => Url; k(ZpaBrowserAccess);
    "UserAgent" => UserAgent; k(ZpaBrowserAccess);
    "XFF" => Other; k(ZpaBrowserAccess);
    "NameID" => Username; k(ZpaBrowserAccess);
    "StatusCode" => RespCode; k(ZpaBrowserAccess);
    "RequestSize" => BytesOut; k(ZpaBrowserAccess);
    "ResponseSize" => BytesIn; k(ZpaBrowserAccess);
    "ApplicationPort" => ZpaServerPort; k(ZpaBrowserAccess);
    "ClientPublicIp" => ClientPublicIp; k(ZpaBrowserAccess);
    "ClientPublicPort" => ClientPort; k(ZpaBrowserAccess);
    "ClientPrivateIp" => ClientPrivateIp; k(ZpaBrowserAccess);
    "ConnectionReason" => ConnectionReason; k(ZpaBrowserAccess);
    "Origin" => Other; k(ZpaBrowserAccess);
    "CorsToken" => Other; k(ZpaBrowserAccess);
    // AppProtection (inspection of what Browser Access and Client Connector carry): it shares
    // the request's times and HTTP keys with Browser Access, so its own keys outvote those.
    "UserID" => Username; k(ZpaAppProtection);
    "ClientPort" => ClientPort; k(ZpaAppProtection);
    "Domain" => Domain; k(ZpaAppProtection);
    "Destination" => Other; k(ZpaAppProtection);
    "OriginDomain" => Other; k(ZpaAppProtection);
    "HTTPError" => HttpError; k(ZpaAppProtection);
    "ApplicationGroup" => AppGroup; k(ZpaAppProtection);
    "InspectionPolicy" => Policy; k(ZpaAppProtection);
    "InspectionProfile" => InspectionProfile; k(ZpaAppProtection);
    "ParanoiaLevel" => ParanoiaLevel; k(ZpaAppProtection);
    "InspectionControlsHitCount" => ControlsHit; k(ZpaAppProtection);
    "RequestHdrSize" => RequestHeaderBytes; k(ZpaAppProtection);
    "RequestBodySize" => RequestBodyBytes; k(ZpaAppProtection);
    "ResponseHdrSize" => ResponseHeaderBytes; k(ZpaAppProtection);
    "ResponseBodySize" => ResponseBodyBytes; k(ZpaAppProtection);
    "ExchangeSequenceIndex" => Other; k(ZpaAppProtection);
    "CertificateId" => Other; k(ZpaAppProtection);
    "SSLInspection" => Other; k(ZpaAppProtection);
    "TotalBytesProcessed" => Other; k(ZpaAppProtection);
    // LSS log types ztel has no record for, which share most keys with App Connector Status:
    // Private Service Edge and Private Cloud Controller status, and the metrics of connectors,
    // service edges and controllers. One of their own keys makes a frame `unknown_type`.
    "ServiceEdge" => Other; unmapped;
    "ServiceEdgeGroup" => Other; unmapped;
    "ServiceEdgeStartTime" => Other; unmapped;
    "PrivateSE" => Other; unmapped;
    "PrivateCloudController" => Other; unmapped;
    "PrivateCloudControllerGroup" => Other; unmapped;
    "PrivateCloudControllerStartTime" => Other; unmapped;
    "SystemMemoryUtilization" => Other; unmapped;
    "ProcessMemoryUtilization" => Other; unmapped;
    "AvailablePorts" => Other; unmapped;
    "SystemMaximumFileDescriptors" => Other; unmapped;
    "AvailableDiskBytes" => Other; unmapped;
    // The inspection of SMB, LDAP and Kerberos (AppProtection's protocol logs, which share its
    // user, domain and policy keys, but describe no HTTP exchange) and Microsegmentation's flow
    // logs (whose `Protocol` is Browser Access's key too): keys of their own that no other
    // template writes. A generic one (`AgentName`, `ResourceID`) would make any record that a
    // custom template or an enrichment gave it `unknown_type`.
    "InspectionProtocolConfig" => Other; unmapped;
    "TrafficClassfication" => Other; unmapped;
    "ProtocolClassification" => Other; unmapped;
    "ProtocolInspectionError" => Other; unmapped;
    "ProtocolActivityType" => Other; unmapped;
    "AppZoneID" => Other; unmapped;
    "AppZoneName" => Other; unmapped;
    "SourcePorts" => Other; unmapped;
    "AppExecutablePath" => Other; unmapped;
    "EnforcementDisposition" => Other; unmapped;
    // App Connector Status.
    "SessionType" => SessionType; k(ZpaAppConnectorStatus);
    "ConnectorGroup" => ConnectorGroup; k(ZpaAppConnectorStatus);
    "CPUUtilization" => CpuUtilization; k(ZpaAppConnectorStatus);
    "MemUtilization" => MemUtilization; k(ZpaAppConnectorStatus);
    "ServiceCount" => ServiceCount; k(ZpaAppConnectorStatus);
    "InterfaceDefRoute" => InterfaceDefRoute; k(ZpaAppConnectorStatus);
    "DefRouteGW" => DefRouteGw; k(ZpaAppConnectorStatus);
    "PrimaryDNSResolver" => PrimaryDnsResolver; k(ZpaAppConnectorStatus);
    "HostStartTime" => HostStartTime; k(ZpaAppConnectorStatus);
    "ConnectorStartTime" => ConnectorStartTime; k(ZpaAppConnectorStatus);
    // Elastic's connector sample names the two start times so.
    "HostUpTime" => HostStartTime; k(ZpaAppConnectorStatus);
    "ConnectorUpTime" => ConnectorStartTime; k(ZpaAppConnectorStatus);
    // Where the connector (or, in User Status, the client) is, and its microtenant: User Status
    // carries them too, so they say only "ZPA".
    "Latitude" => Latitude; zpa;
    "Longitude" => Longitude; zpa;
    "MicroTenantID" => MicroTenantId; zpa;
    "NumOfInterfaces" => NumInterfaces; k(ZpaAppConnectorStatus);
    "BytesRxInterface" => BytesRxInterface; k(ZpaAppConnectorStatus);
    "PacketsRxInterface" => PacketsRxInterface; k(ZpaAppConnectorStatus);
    "ErrorsRxInterface" => ErrorsRxInterface; k(ZpaAppConnectorStatus);
    "DiscardsRxInterface" => DiscardsRxInterface; k(ZpaAppConnectorStatus);
    "BytesTxInterface" => BytesTxInterface; k(ZpaAppConnectorStatus);
    "PacketsTxInterface" => PacketsTxInterface; k(ZpaAppConnectorStatus);
    "ErrorsTxInterface" => ErrorsTxInterface; k(ZpaAppConnectorStatus);
    "DiscardsTxInterface" => DiscardsTxInterface; k(ZpaAppConnectorStatus);
    // Audit.
    "ModifiedTime" => ModifiedTime; k(ZpaAudit);
    "CreationTime" => CreationTime; k(ZpaAudit);
    "ModifiedBy" => ModifiedBy; k(ZpaAudit);
    "RequestID" => RequestId; k(ZpaAudit);
    "AuditOldValue" => OldValue; k(ZpaAudit);
    "AuditNewValue" => NewValue; k(ZpaAudit);
    "AuditOperationType" => OperationType; k(ZpaAudit);
    "ObjectType" => ObjectType; k(ZpaAudit);
    "ObjectName" => ObjectName; k(ZpaAudit);
    "ObjectID" => ObjectId; k(ZpaAudit);
    "CustomerID" => Other; k(ZpaAudit);
    "User" => Username; k(ZpaAudit);
    // Sekoia's older audit sample names the admin so.
    "ModifiedByUser" => Username; k(ZpaAudit);
    "ClientAuditUpdate" => Other; k(ZpaAudit);
};

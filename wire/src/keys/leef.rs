//! The names of QRadar LEEF attributes as Zscaler's LEEF templates use them. A LEEF reader looks
//! here first: `cat` is the action in Zscaler's LEEF (`cat=Blocked`) but the category in CEF.
//! Zscaler's QRadar preset names the rest of its attributes after NSS variables (`recordid`,
//! `reqmethod`, `respcode`, `appname`, `riskscore`, …), which the shared table mostly knows;
//! those it does not are listed here.
//!
//! LSS has no LEEF template of its own; the published ones are custom templates: IBM's QRadar DSM
//! guide ("Configuring Zscaler Private Access to send events to QRadar") and Cortex XSIAM's
//! ("Ingest logs from Zscaler Private Access") give User Activity, User Status, App Connector
//! Status and Audit. Their header names the product `ZPA`, and they use LSS names but for a few
//! of QRadar's. Those mean LSS values there ([`ZPA`]), looked up ahead of the others in a frame
//! of that product.

use super::Key;

#[rustfmt::skip]
pub const KEYS: &[Key] = crate::dialect! {
    "devTime" => Time;
    "devTimeFormat" => Other;
    "cat" => Action; zia;
    "src" => ClientIp; zia;
    "srcPort" => ClientPort; zia;
    "dst" => ServerIp; zia;
    "dstPort" => ServerPort; zia;
    "usrName" => Login, all; zia;
    "srcBytes" => BytesOut; zia;
    "dstBytes" => BytesIn; zia;
    "srcPostNAT" => ClientIntIp; zia;
    "realm" => Location; zia;
    "role" => Department; zia;
    "referer" => Referer, pct; k(ZiaWeb);
    "useragent" => UserAgent, pct; k(ZiaWeb);
    "hostname" => Host, pct; k(ZiaWeb);
    "url" => Url, pct; k(ZiaWeb);
    "urlcategory" => Category; k(ZiaWeb);
    "malwaretype" => ThreatCategory; k(ZiaWeb);
    "appproto" => Proto; zia;
    "policy" => Rule; zia;
    // The preset's web attributes that no record reads, kept for their votes.
    "bwthrottle" => Other; k(ZiaWeb);
    "malwareclass" => Other; k(ZiaWeb);
    "dlpdict" => Other; k(ZiaWeb);
    "dlpeng" => Other; k(ZiaWeb);
    "fileclass" => Other; k(ZiaWeb);
    "filetype" => Other; k(ZiaWeb);
    // QRadar's own name for the host an event is about, as LEEF templates written after
    // QRadar's list of predefined keys use it.
    "identHostName" => DeviceHostname;
};

/// QRadar's names in the ZPA templates: `usrName=%s{Username}`, `identHostName=%s{Hostname}`,
/// `src=%s{PublicIP}`, `srcPreNAT=%s{PrivateIP}`, `dstBytes=%d{TotalBytesRx}`,
/// `srcBytes=%d{TotalBytesTx}`, `devTime=%s{LogTimestamp:epoch}`; in User Activity
/// `proto=%d{IPProtocol}`, `dstPort=%d{ServicePort}`, `policy=%s{Policy}`,
/// `ApplicationName=%s{Host}`, `ApplicationSegment=%s{Application}`, `dst=%s{ServerIP}`; in Audit
/// LSS's names with a lower-case first letter. `cat` is the log type's name (`ZPA User Status`),
/// and the times keep LSS's format suffix in their names.
#[rustfmt::skip]
pub const ZPA: &[Key] = crate::dialect! {
    "cat" => Other; zpa;
    "devTime" => LogTimestamp; zpa;
    "policy" => Policy; zpa;
    "usrName" => Username; zpa;
    "identHostName" => Hostname; zpa;
    "src" => ClientPublicIp; zpa;
    "srcPreNAT" => ClientPrivateIp; zpa;
    "dstBytes" => TotalBytesRx; zpa;
    "srcBytes" => TotalBytesTx; zpa;
    "TimestampAuthentication:iso8601" => AuthenticatedAt; zpa;
    "TimestampUnAuthentication:iso8601" => UnauthenticatedAt; zpa;
    // User Activity.
    "proto" => IpProtocol; k(ZpaUserActivity);
    "dstPort" => Other; k(ZpaUserActivity);
    "dst" => ZpaServerIp; k(ZpaUserActivity);
    "ApplicationName" => ZpaHost; k(ZpaUserActivity);
    "ApplicationSegment" => Application; k(ZpaUserActivity);
    "TimestampConnectionStart:iso8601" => ConnStart; k(ZpaUserActivity);
    "TimestampConnectionEnd:iso8601" => ConnEnd; k(ZpaUserActivity);
    // Audit (`devTime=%s{modifiedTime:epoch}`, read as the record's time before `creationTime`).
    "creationTime:iso8601" => CreationTime; k(ZpaAudit);
    "requestId" => RequestId; k(ZpaAudit);
    "sessionId" => SessionId; k(ZpaAudit);
    "auditOldValue" => OldValue; k(ZpaAudit);
    "auditNewValue" => NewValue; k(ZpaAudit);
    "auditOperationType" => OperationType; k(ZpaAudit);
    "objectType" => ObjectType; k(ZpaAudit);
    "objectName" => ObjectName; k(ZpaAudit);
    "objectId" => ObjectId; k(ZpaAudit);
    "accountName" => Other; k(ZpaAudit);
};

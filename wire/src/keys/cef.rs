//! The names of ArcSight CEF extensions as Zscaler's CEF templates (Sentinel, ArcSight) use them,
//! and the flat CEF-style JSON some Sentinel templates send. They are part of the table every
//! format shares. `csN`/`cnN`/`flexStringN` take their name from their `csNLabel`, which the CEF
//! reader looks up as a key: Zscaler's templates label them with NSS variable names (`dept`,
//! `durationms`), Elastic's names (`dns_req`) or names of their own, listed here.
//!
//! [`KEYS`] are what ArcSight's names mean in the web, firewall and DNS presets, and in CEF-style
//! JSON, whose log type is known only once every key is read. The other presets fill some of
//! the same names with other variables (`outcome` is `%s{respcode}` in web, `%s{result}` in
//! audit): a CEF frame's header names its log type before its extension is read, and the tables
//! below give that type's own meanings ([`super::lookup_cef`]), ahead of [`KEYS`]. They vote for
//! nothing: a frame whose header names its type counts no votes.

use super::Key;

#[rustfmt::skip]
pub const KEYS: &[Key] = crate::dialect! {
    "rt" => Time;
    "src" => ClientIp; zia;
    "spt" => ClientPort; zia;
    "dst" => ServerIp; zia;
    "dpt" => ServerPort; zia;
    "dhost" => Host, pct; k(ZiaWeb);
    "request" => Url, pct; k(ZiaWeb);
    "requestMethod" => Method; k(ZiaWeb);
    "requestClientApplication" => UserAgent, pct; k(ZiaWeb);
    "requestContext" => Referer, pct; k(ZiaWeb);
    "suser" => Login, all; zia;
    "externalId" => RecordId; zia;
    "act" => Action; zia;
    "outcome" => RespCode; k(ZiaWeb);
    "in" => BytesIn; zia;
    // Zscaler's Sentinel demo web template (microsoft-resources, before its removal).
    "in_bytes" => BytesIn; zia;
    "out" => BytesOut; zia;
    "cat" => Category; zia;
    "app" => Proto; zia;
    "proto" => Proto; zia;
    "sourceTranslatedAddress" => ClientIntIp; zia;
    "deviceTranslatedAddress" => NatIp; k(ZiaFirewall);
    "deviceTranslatedPort" => NatPort; k(ZiaFirewall);
    "destinationServiceName" => App; zia;
    "spriv" => Location; zia;
    "reason" => Other; zia;
    "fileType" => Other; k(ZiaWeb);
    "TimeGenerated" => DateTime; zia;
    // The firewall, DNS, tunnel and audit templates (zscaler/microsoft-resources, `nss-*.cef`).
    "suid" => DeviceOwner; zia;
    "dvchost" => DeviceHostname; zia;
    // ArcSight's source host: the client's hostname where a custom firewall template puts
    // `%s{devicehostname}` (CEF has no field of its own for it).
    "shost" => SourceHost; zia;
    "dtz" => Tz; zia;
    "deviceExternalId" => RecordId; zia;
    "destCountry" => Other; k(ZiaFirewall);
    "sourceServiceName" => AuditLogType; k(ZiaAudit);
    // Labels of custom fields that are not NSS names (`cs2Label=nwService`); the others
    // (`dept`, `durationms`, `dns_req`, `reqrulelabel`, …) are found among NSS's and Elastic's.
    "nwService" => NwSvc; k(ZiaFirewall);
    "nwApp" => App; k(ZiaFirewall);
    "aggregated" => Other; k(ZiaFirewall);
    "ipCat" => Other; k(ZiaFirewall);
};

// The log types' own meanings, from Zscaler's ArcSight/Sentinel presets
// (zscaler/microsoft-resources, microsoft-sentinel/zia-log-feeds/<type>/nss-<type>.cef).

/// `nss-audit.cef`: `cat=%s{interface} outcome=%s{result} reason=%s{errorcode}`.
#[rustfmt::skip]
pub const AUDIT: &[Key] = crate::dialect! {
    "cat" => Interface;
    "outcome" => Result;
    "reason" => ErrorCode;
};

/// `nss-fw.cef`: `reason=%s{rulelabel}`, beside `name=%s{rulelabel}` (the header's name, which
/// the older Sentinel demo template leaves out).
#[rustfmt::skip]
pub const FIREWALL: &[Key] = crate::dialect! {
    "reason" => Rule;
};

/// `nss-tunnel.cef`, its Tunnel Events record: `name=%s{event} reason=%s{eventreason}`.
#[rustfmt::skip]
pub const TUNNEL: &[Key] = crate::dialect! {
    "name" => TunnelEvent;
    "reason" => EventReason;
};

/// The eight SaaS Security presets (`nss-casbfilesharing.cef`, `nss-casbcrm.cef`, …):
/// `deviceEventClassId=%s{applicationname} act=%s{policy} fname=%s{filename}
/// fileHash=%s{filemd5} filePath=%s{filesource}` (`%s{filepath}` in some). The collaboration and
/// email presets' `outcome=%s{any_incident}` is no HTTP status.
#[rustfmt::skip]
pub const SAAS: &[Key] = crate::dialect! {
    "deviceEventClassId" => App;
    // `%s{fullurl}`, the URL as it is: its `%HH` are the URL's own (the web template writes
    // `%s{eurl}`, which NSS encodes, under the same name).
    "request" => Url;
    "act" => Policy;
    "fname" => FileName;
    "fileHash" => FileMd5;
    "filePath" => FileSource;
    "outcome" => Other;
    // Sentinel's Cloud NSS JSON presets write these NSS variables under names of their own:
    // `fileModificationTime` is `%d{epochlastmodtime}` or `%s{file_msg_mod_time}`, and the email
    // preset writes `%s{owner}`, which the others write as `suser`.
    "fileModificationTime" => LastModified;
    "owner" => Login;
};

/// `nss-casbactivity.cef`: `deviceEventClassId=%s{appname} act=%s{act_type_name}`.
#[rustfmt::skip]
pub const SAAS_ACTIVITY: &[Key] = crate::dialect! {
    "deviceEventClassId" => App;
    "act" => ActivityType;
    // `eventCount=%d{act_cnt}`, and `flexString1=%s{is_admin_act}` labelled `isadmin`.
    "eventCount" => ActivityCount;
    "isadmin" => AdminActivity;
};

//! The names of ArcSight CEF extensions as Zscaler's CEF templates (Sentinel, ArcSight) use them,
//! and the flat CEF-style JSON some Sentinel templates send. They are part of the table every
//! format shares. `csN`/`cnN`/`flexStringN` take their name from their `csNLabel`, which the CEF
//! reader looks up as a key: Zscaler's templates label them with NSS variable names (`dept`,
//! `durationms`), Elastic's names (`dns_req`) or names of their own, listed here.

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
    "suser" => Login, pct; zia;
    "externalId" => RecordId; zia;
    "act" => Action; zia;
    "outcome" => RespCode; k(ZiaWeb);
    "in" => BytesIn; zia;
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

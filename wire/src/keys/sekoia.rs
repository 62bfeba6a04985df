//! The Splunk / Sekoia / Datadog / Sumo JSON templates (the Sekoia guide in `seeds/` prints seven of
//! them): readable names for NSS variables, e.g. `hostname` for the URL's host and `url` for the
//! encoded URL.

use super::Key;

#[rustfmt::skip]
pub const KEYS: &[Key] = crate::dialect! {
    // Web.
    "event_id" => RecordId; k(ZiaWeb);
    "urlcategory" => Category; k(ZiaWeb);
    "requestmethod" => Method; k(ZiaWeb);
    "refererURL" => Referer, pct; k(ZiaWeb);
    "ClientIP" => ClientIp; k(ZiaWeb);
    "status" => RespCode; k(ZiaWeb);
    "url" => Url, pct; k(ZiaWeb);
    "hostname" => Host, pct; k(ZiaWeb);
    "clientpublicIP" => ClientIntIp; k(ZiaWeb);
    "threatcategory" => ThreatCategory; k(ZiaWeb);
    "pagerisk" => RiskScore; k(ZiaWeb);
    "requestsize" => BytesOut; k(ZiaWeb);
    "responsesize" => BytesIn; k(ZiaWeb);
    "transactionsize" => Other; k(ZiaWeb);
    "urlsupercategory" => Other; k(ZiaWeb);
    "department" => Department, all; zia;
    // SaaS Security Activity (Sekoia's and Datadog's `zscalernss-casb` activity templates).
    "object_type" => ObjectType; k(ZiaSaasActivity);
    "object_type_name_1" => ObjectType; k(ZiaSaasActivity);
    "object_name_1" => ObjectName; k(ZiaSaasActivity);
    "object_name_2" => ObjectName2; k(ZiaSaasActivity);
    "activity_type_name" => ActivityType; k(ZiaSaasActivity);
    "activity_count" => ActivityCount; k(ZiaSaasActivity);
    "is_admin_act" => AdminActivity; k(ZiaSaasActivity);
    "external_owner_name" => ExternalOwner; k(ZiaSaasActivity);
    // The rest (firewall, DNS, tunnel, audit, SaaS) are Zscaler's or Elastic's names.
    "dns_gateway_rule" => Other; k(ZiaDns);
    "respipcategory" => Other; k(ZiaDns);
};

//! The names of ArcSight CEF extensions as Zscaler's CEF templates (Sentinel, ArcSight) use them,
//! and the flat CEF-style JSON some Sentinel templates send. A CEF reader looks here first, so a
//! name may mean something else in CEF than in JSON; `csN`/`cnN` take their name from their
//! `csNLabel`, which is an NSS variable name and is looked up among those.

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
};

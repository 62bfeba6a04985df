//! The names of QRadar LEEF attributes as Zscaler's LEEF templates use them. A LEEF reader looks
//! here first: `cat` is the action in Zscaler's LEEF (`cat=Blocked`) but the category in CEF.
//! Zscaler's QRadar preset names the rest of its attributes after NSS variables (`recordid`,
//! `reqmethod`, `respcode`, `appname`, `riskscore`, …), which the shared table mostly knows;
//! those it does not are listed here.
//!
//! LSS has no LEEF template of its own; the one published is the custom User Status template of
//! IBM's QRadar DSM guide ("Configuring Zscaler Private Access to send events to QRadar"), whose
//! header names the product `ZPA` and which uses LSS names but for a few of QRadar's. Those mean
//! LSS values there ([`ZPA`]), looked up ahead of the others in a frame of that product.

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
    "usrName" => Login, pct; zia;
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

/// QRadar's names in IBM's ZPA template: `usrName=%s{Username}`, `identHostName=%s{Hostname}`,
/// `src=%s{PublicIP}`, `srcPreNAT=%s{PrivateIP}`, `dstBytes=%d{TotalBytesRx}`,
/// `srcBytes=%d{TotalBytesTx}`; `cat` is the log type's name (`ZPA User Status`), and the
/// times keep LSS's format suffix in their names.
#[rustfmt::skip]
pub const ZPA: &[Key] = crate::dialect! {
    "cat" => Other; zpa;
    "usrName" => Username; zpa;
    "identHostName" => Hostname; zpa;
    "src" => ClientPublicIp; zpa;
    "srcPreNAT" => ClientPrivateIp; zpa;
    "dstBytes" => TotalBytesRx; zpa;
    "srcBytes" => TotalBytesTx; zpa;
    "TimestampAuthentication:iso8601" => AuthenticatedAt; zpa;
    "TimestampUnAuthentication:iso8601" => UnauthenticatedAt; zpa;
};

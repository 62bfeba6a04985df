//! The names of QRadar LEEF attributes as Zscaler's LEEF templates use them. A LEEF reader looks
//! here first: `cat` is the action in Zscaler's LEEF (`cat=Blocked`) but the category in CEF.

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
};

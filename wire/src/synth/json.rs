//! Synthetic web records in the JSON templates: ztel's own feed format (`ztel feed-format
//! zia-web`), Elastic's NSS template (the default field set in the envelope, all strings) and the
//! Splunk / Sekoia / Datadog template behind an RFC 3164 header.

use std::fmt::Write as _;

use super::web::Web;
use super::Stamp;

/// Appends one web record in ztel's feed format and its LF.
pub(super) fn ztel(w: &Web, out: &mut String) {
    let Web {
        secs,
        id,
        login,
        proto,
        url,
        site,
        action,
        method,
        status,
        reqsize,
        respsize,
        cip,
        cpubip,
        sip,
        category,
        owner,
        host,
        eua,
        ..
    } = *w;
    let _ = writeln!(
        out,
        r#"{{"sourcetype":"zscalernss-web","event":{{"epochtime":"{secs}","recordid":"{id}","elogin":"{elogin}","proto":"{proto}","eurl":"{url}","ehost":"{site}","action":"{action}","reqmethod":"{method}","respcode":"{status}","reqsize":"{reqsize}","respsize":"{respsize}","cip":"{cip}","cintip":"{cpubip}","sip":"{sip}","urlcat":"{category}","deviceowner":"{owner}","devicehostname":"{host}","eua":"{eua}","ereferer":"https://{url}","elocation":"HQ%20Paris"}}}}"#,
        elogin = login.encoded(),
    );
}

/// Appends one web record in Elastic's template and its LF.
pub(super) fn elastic(w: &Web, out: &mut String) {
    let Web {
        secs,
        login,
        proto,
        url,
        action,
        reqsize,
        respsize,
        category,
        cip,
        sip,
        method,
        status,
        agent,
        owner,
        host,
        ..
    } = *w;
    let _ = writeln!(
        out,
        r#"{{ "sourcetype" : "zscalernss-web", "event" :{{"time":"{time}","login":"{login}","proto":"{proto}","eurl":"{url}","action":"{action}","appname":"General Browsing","appclass":"General Browsing","reqsize":"{reqsize}","respsize":"{respsize}","stime":"0","ctime":"0","urlclass":"Business Use","urlsupercat":"Information Technology","urlcat":"{category}","malwarecat":"None","threatname":"None","riskscore":"0","dlpeng":"None","dlpdict":"None","location":"HQ Paris","dept":"Engineering","cip":"{cip}","sip":"{sip}","reqmethod":"{method}","respcode":"{status}","ua":"{agent}","ereferer":"None","ruletype":"None","rulelabel":"None","contenttype":"text/html","unscannabletype":"None","deviceowner":"{owner}","devicehostname":"{host}"}}}}"#,
        time = Stamp::Ctime(secs),
    );
}

/// Appends one web record in the Splunk / Sekoia template, behind its header, and its LF.
pub(super) fn sekoia(w: &Web, out: &mut String) {
    let Web {
        secs,
        action,
        id,
        proto,
        respsize,
        reqsize,
        category,
        sip,
        method,
        eua,
        cip,
        status,
        login,
        url,
        site,
        cpubip,
        owner,
        host,
        ..
    } = *w;
    let _ = writeln!(
        out,
        r#"{header} zscaler-nss {{ "sourcetype" : "zscalernss-web", "event" : {{"datetime":"{time}","reason":"{action}","event_id":"{id}","protocol":"{proto}","action":"{action}","transactionsize":"{total}","responsesize":"{respsize}","requestsize":"{reqsize}","urlcategory":"{category}","serverip":"{sip}","requestmethod":"{method}","refererURL":"None","useragent":"{eua}","product":"NSS","location":"HQ%20Paris","ClientIP":"{cip}","status":"{status}","user":"{elogin}","url":"{url}","vendor":"Zscaler","hostname":"{site}","clientpublicIP":"{cpubip}","threatcategory":"None","threatname":"None","filetype":"None","appname":"General Browsing","pagerisk":"0","department":"Engineering","urlsupercategory":"Information Technology","appclass":"General Browsing","dlpengine":"None","urlclass":"Business Use","threatclass":"None","dlpdictionaries":"None","fileclass":"None","bwthrottle":"NO","contenttype":"text/html","unscannabletype":"None","deviceowner":"{owner}","devicehostname":"{host}","keyprotectiontype":"N/A"}}}}"#,
        header = Stamp::Syslog(secs),
        time = Stamp::DateTime(secs),
        total = reqsize + respsize,
        elogin = login.encoded(),
    );
}

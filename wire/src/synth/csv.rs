//! Synthetic web records in the NSS default output: Zscaler's 34 default web fields, each quoted,
//! comma-separated, values as NSS writes them without a Feed Escape Character (user agents hold
//! commas inside their quotes).

use std::fmt::Write as _;

use super::web::Web;
use super::Stamp;

/// Appends one web record and its LF.
pub(super) fn web(w: &Web, out: &mut String) {
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
        r#""{time}","{login}","{proto}","{url}","{action}","General Browsing","General Browsing","{reqsize}","{respsize}","0","0","Business Use","Information Technology","{category}","None","None","0","None","None","HQ Paris","Engineering","{cip}","{sip}","{method}","{status}","{agent}","https://{url}","None","None","text/html","None","{owner}","{host}","N/A""#,
        time = Stamp::Ctime(secs),
    );
}

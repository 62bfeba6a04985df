//! Synthetic web records in the NSS default output: Zscaler's 34 default web fields, each quoted,
//! comma-separated, values as NSS writes them without a Feed Escape Character (user agents hold
//! commas inside their quotes).

use std::fmt::Write as _;

use super::web::{Civil, Web};

/// Appends one web record and its LF.
pub(super) fn web(w: &Web, out: &mut String) {
    let Civil {
        y,
        d,
        hh,
        mm,
        ss,
        weekday,
        mon,
        ..
    } = w.civil();
    let Web {
        owner,
        ref login,
        ref host,
        ref cip,
        ref sip,
        site,
        path,
        agent,
        category,
        proto,
        method,
        action,
        status,
        reqsize,
        respsize,
        ..
    } = *w;
    let _ = writeln!(
        out,
        r#""{weekday} {mon} {d:02} {hh:02}:{mm:02}:{ss:02} {y}","{login}","{proto}","{site}{path}","{action}","General Browsing","General Browsing","{reqsize}","{respsize}","0","0","Business Use","Information Technology","{category}","None","None","0","None","None","HQ Paris","Engineering","{cip}","{sip}","{method}","{status}","{agent}","https://{site}{path}","None","None","text/html","None","user{owner:05}","{host}","N/A""#,
    );
}

//! Synthetic web records in Zscaler's ArcSight / Sentinel CEF web template
//! (`zscaler/microsoft-resources`, `microsoft-sentinel/zia-log-feeds/web/nss-web.cef`), through
//! `devicehostname`: the fields after it are ones no record reads, and without them a line is
//! about as long as the other dialects' (the benches compare cost per byte).

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
        mon,
        ..
    } = w.civil();
    let Web {
        id,
        device,
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
    let reason = reason(action);
    let _ = write!(
        out,
        "{mon} {d:02} {hh:02}:{mm:02}:{ss:02} zscaler-nss CEF:0|Zscaler|NSSWeblog|5.7|{action}|{reason}|3|act={action} Severity=3 name={reason} deviceEventClassId={action} app={proto} cat={category} dhost="
    );
    nss_escape(site, out);
    let _ = write!(
        out,
        " dst={sip} src={cip} in_bytes={respsize} in={respsize} outcome={status} out={reqsize} request="
    );
    nss_escape(site, out);
    nss_escape(path, out);
    let _ = write!(
        out,
        " rt={mon} {d:02} {y} {hh:02}:{mm:02}:{ss:02} sourceTranslatedAddress=198.51.100.{c} requestClientApplication={agent} requestMethod={method} suser={login} spriv=HQ Paris externalId={id} fileType=None reason={reason} destinationServiceName=General Browsing cn1=0 cn1Label=riskscore cs1=Engineering cs1Label=dept cs2=Information Technology cs2Label=urlsupercat cs3=General Browsing cs3Label=appclass cs4=None cs4Label=malwarecat cs5=None cs5Label=threatname cs6=None cs6Label=dlpeng ZscalerNSSWeblogURLClass=Business Use ZscalerNSSWeblogDLPDictionaries=None requestContext=https://",
        c = device % 250,
    );
    nss_escape(site, out);
    nss_escape(path, out);
    let _ = writeln!(
        out,
        " contenttype=text/html unscannabletype=None deviceowner=user{owner:05} devicehostname={host}"
    );
}

/// The `%s{reason}` of an action, as NSS words it.
pub(super) fn reason(action: &str) -> &'static str {
    if action == "Blocked" {
        "Not allowed to browse this category"
    } else {
        "Allowed"
    }
}

/// Appends `value` as NSS writes an `e…` variable (`eurl`, `ehost`, `ereferer`): bytes up to a
/// space and from DEL on as `%HH`, with the Feed Escape Characters left at their default.
pub(super) fn nss_escape(value: &str, out: &mut String) {
    for &b in value.as_bytes() {
        if b <= 0x20 || b >= 0x7f {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
}

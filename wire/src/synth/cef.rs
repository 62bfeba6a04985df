//! Synthetic web records in Zscaler's ArcSight / Sentinel CEF web template
//! (`zscaler/microsoft-resources`, `microsoft-sentinel/zia-log-feeds/web/nss-web.cef`), through
//! `devicehostname`: the fields after it are ones no record reads, and without them a line is
//! about as long as the other dialects' (the benches compare cost per byte).

use std::fmt::Write as _;

use super::web::Web;
use super::Stamp;

/// Appends one web record and its LF.
pub(super) fn web(w: &Web, out: &mut String) {
    let Web {
        secs,
        action,
        reason,
        proto,
        category,
        ehost,
        sip,
        cip,
        respsize,
        status,
        reqsize,
        eurl,
        cpubip,
        agent,
        method,
        login,
        id,
        owner,
        host,
        ..
    } = *w;
    let _ = writeln!(
        out,
        "{header} zscaler-nss CEF:0|Zscaler|NSSWeblog|5.7|{action}|{reason}|3|act={action} Severity=3 name={reason} deviceEventClassId={action} app={proto} cat={category} dhost={ehost} dst={sip} src={cip} in_bytes={respsize} in={respsize} outcome={status} out={reqsize} request={eurl} rt={rt} sourceTranslatedAddress={cpubip} requestClientApplication={agent} requestMethod={method} suser={login} spriv=HQ Paris externalId={id} fileType=None reason={reason} destinationServiceName=General Browsing cn1=0 cn1Label=riskscore cs1=Engineering cs1Label=dept cs2=Information Technology cs2Label=urlsupercat cs3=General Browsing cs3Label=appclass cs4=None cs4Label=malwarecat cs5=None cs5Label=threatname cs6=None cs6Label=dlpeng ZscalerNSSWeblogURLClass=Business Use ZscalerNSSWeblogDLPDictionaries=None requestContext=https://{eurl} contenttype=text/html unscannabletype=None deviceowner={owner} devicehostname={host}",
        header = Stamp::SyslogZeroDay(secs),
        rt = Stamp::MonthDayYear(secs),
    );
}

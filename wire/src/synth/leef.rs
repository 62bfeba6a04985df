//! Synthetic web records in Zscaler's QRadar LEEF preset (the Feed Output Format NSS fills in
//! for the "QRadar LEEF" output type, as IBM's DSM guide prints it, with `src=%s{cip}` which
//! Rapid7's copy shows), followed by `devicehostname` and `deviceowner`: the preset has no
//! device, and a record keyed by the client IP would not be the record JSON gives.

use std::fmt::Write as _;

use super::web::Web;
use super::Stamp;

/// Appends one web record and its LF.
pub(super) fn web(w: &Web, out: &mut String) {
    let Web {
        secs,
        reason,
        action,
        cip,
        sip,
        cpubip,
        login,
        reqsize,
        respsize,
        eurl,
        id,
        agent,
        ehost,
        proto,
        category,
        method,
        status,
        host,
        owner,
        ..
    } = *w;
    let _ = writeln!(
        out,
        "{header} zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|{reason}|cat={action}\tdevTime={dev_time} GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsrc={cip}\tdst={sip}\tsrcPostNAT={cpubip}\trealm=HQ Paris\tusrName={login}\tsrcBytes={reqsize}\tdstBytes={respsize}\trole=Engineering\tpolicy={reason}\turl={eurl}\trecordid={id}\tbwthrottle=NO\tuseragent={agent}\treferer=https://{eurl}\thostname={ehost}\tappproto={proto}\turlcategory={category}\turlsupercategory=Information Technology\turlclass=Business Use\tappclass=General Browsing\tappname=General Browsing\tmalwaretype=None\tmalwareclass=None\tthreatname=None\triskscore=0\tdlpdict=None\tdlpeng=None\tfileclass=None\tfiletype=None\treqmethod={method}\trespcode={status}\tdevicehostname={host}\tdeviceowner={owner}",
        header = Stamp::SyslogZeroDay(secs),
        dev_time = Stamp::MonthDayYear(secs),
    );
}

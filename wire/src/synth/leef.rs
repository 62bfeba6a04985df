//! Synthetic web records in Zscaler's QRadar LEEF preset (the Feed Output Format NSS fills in
//! for the "QRadar LEEF" output type, as IBM's DSM guide prints it, with `src=%s{cip}` which
//! Rapid7's copy shows), followed by `devicehostname` and `deviceowner`: the preset has no
//! device, and a record keyed by the client IP would not be the record JSON gives.

use std::fmt::Write as _;

use super::cef::{nss_escape, reason};
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
        "{mon} {d:02} {hh:02}:{mm:02}:{ss:02} zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|{reason}|cat={action}\tdevTime={mon} {d:02} {y} {hh:02}:{mm:02}:{ss:02} GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsrc={cip}\tdst={sip}\tsrcPostNAT=198.51.100.{c}\trealm=HQ Paris\tusrName={login}\tsrcBytes={reqsize}\tdstBytes={respsize}\trole=Engineering\tpolicy={reason}\turl=",
        c = device % 250,
    );
    nss_escape(site, out);
    nss_escape(path, out);
    let _ = write!(
        out,
        "\trecordid={id}\tbwthrottle=NO\tuseragent={agent}\treferer=https://"
    );
    nss_escape(site, out);
    nss_escape(path, out);
    out.push_str("\thostname=");
    nss_escape(site, out);
    let _ = writeln!(
        out,
        "\tappproto={proto}\turlcategory={category}\turlsupercategory=Information Technology\turlclass=Business Use\tappclass=General Browsing\tappname=General Browsing\tmalwaretype=None\tmalwareclass=None\tthreatname=None\triskscore=0\tdlpdict=None\tdlpeng=None\tfileclass=None\tfiletype=None\treqmethod={method}\trespcode={status}\tdevicehostname={host}\tdeviceowner=user{owner:05}"
    );
}

//! Synthetic web records in Zscaler's Splunk key=value preset (the tab-separated template Splunk
//! Connect for Syslog's tests show, time first), followed by `deviceowner` and `devicehostname`
//! as the newer Splunk templates end: without them a record would be keyed by the client IP and
//! would not be the record JSON gives.

use std::fmt::Write as _;

use super::web::{Civil, Web};

/// Appends one web record and its LF.
pub(super) fn web(w: &Web, out: &mut String) {
    let Civil {
        y,
        m,
        d,
        hh,
        mm,
        ss,
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
    let _ = writeln!(
        out,
        "{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}\treason={action}\tevent_id={id}\tprotocol={proto}\taction={action}\ttransactionsize={total}\tresponsesize={respsize}\trequestsize={reqsize}\turlcategory={category}\tserverip={sip}\tclienttranstime=0\trequestmethod={method}\trefererURL=https://{site}{path}\tuseragent={agent}\tproduct=NSS\tlocation=HQ Paris\tClientIP={cip}\tstatus={status}\tuser={login}\turl={site}{path}\tvendor=Zscaler\thostname={site}\tclientpublicIP=198.51.100.{c}\tthreatcategory=None\tthreatname=None\tfiletype=None\tappname=General Browsing\tpagerisk=0\tdepartment=Engineering\turlsupercategory=Information Technology\tappclass=General Browsing\tdlpengine=None\turlclass=Business Use\tthreatclass=None\tdlpdictionaries=None\tfileclass=None\tbwthrottle=NO\tservertranstime=0\tmd5=None\tdeviceowner=user{owner:05}\tdevicehostname={host}",
        total = reqsize + respsize,
        c = device % 250,
    );
}

//! Synthetic web records in Zscaler's Splunk key=value preset (the tab-separated template Splunk
//! Connect for Syslog's tests show, time first), followed by `deviceowner` and `devicehostname`
//! as the newer Splunk templates end: without them a record would be keyed by the client IP and
//! would not be the record JSON gives.

use std::fmt::Write as _;

use super::web::Web;
use super::Stamp;

/// Appends one web record and its LF.
pub(super) fn web(w: &Web, out: &mut String) {
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
        url,
        agent,
        cip,
        status,
        login,
        site,
        cpubip,
        owner,
        host,
        ..
    } = *w;
    let _ = writeln!(
        out,
        "{time}\treason={action}\tevent_id={id}\tprotocol={proto}\taction={action}\ttransactionsize={total}\tresponsesize={respsize}\trequestsize={reqsize}\turlcategory={category}\tserverip={sip}\tclienttranstime=0\trequestmethod={method}\trefererURL=https://{url}\tuseragent={agent}\tproduct=NSS\tlocation=HQ Paris\tClientIP={cip}\tstatus={status}\tuser={login}\turl={url}\tvendor=Zscaler\thostname={site}\tclientpublicIP={cpubip}\tthreatcategory=None\tthreatname=None\tfiletype=None\tappname=General Browsing\tpagerisk=0\tdepartment=Engineering\turlsupercategory=Information Technology\tappclass=General Browsing\tdlpengine=None\turlclass=Business Use\tthreatclass=None\tdlpdictionaries=None\tfileclass=None\tbwthrottle=NO\tservertranstime=0\tmd5=None\tdeviceowner={owner}\tdevicehostname={host}",
        time = Stamp::DateTime(secs),
        total = reqsize + respsize,
    );
}

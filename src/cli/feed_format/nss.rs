//! ztel's recommended NSS "Feed Output Format" for each ZIA log type: the JSON envelope of DESIGN
//! §3 with NSS's own variable names as keys (so `keys/nss.rs` reads them), every value a string
//! as NSS's own JSON presets write them, `%d{epochtime}` wherever the log type has it (an
//! unambiguous time), and the `e…` variants wherever NSS has them, so that no value can break
//! the JSON.

/// One variable: its NSS name and how NSS prints it (`s` text, `d`/`ld`/`lu` numbers).
pub struct Var(pub &'static str, pub &'static str);

/// A ZIA log type's feed: its `sourcetype` and its variables, in order.
pub struct Feed {
    pub sourcetype: &'static str,
    pub vars: &'static [Var],
}

/// The web log format DESIGN §2.1 describes (its optional port fields are in [`WEB_PORTS`]).
pub const WEB: Feed = Feed {
    sourcetype: "zscalernss-web",
    vars: &[
        Var("epochtime", "d"),
        Var("recordid", "d"),
        Var("elogin", "s"),
        Var("proto", "s"),
        Var("eurl", "s"),
        Var("ehost", "s"),
        Var("action", "s"),
        Var("reqmethod", "s"),
        Var("respcode", "s"),
        Var("reqsize", "d"),
        Var("respsize", "d"),
        Var("cip", "s"),
        Var("cintip", "s"),
        Var("sip", "s"),
        Var("urlcat", "s"),
        Var("deviceowner", "s"),
        Var("devicehostname", "s"),
        Var("eua", "s"),
        Var("ereferer", "s"),
        Var("elocation", "s"),
        Var("edepartment", "s"),
        Var("appname", "s"),
        Var("threatname", "s"),
        Var("malwarecat", "s"),
        Var("riskscore", "d"),
    ],
};

/// The web log's optional port fields: only when Zscaler Support has enabled them for the tenant.
pub const WEB_PORTS: &str = r#","clt_sport":"%d{clt_sport}","srv_dport":"%d{srv_dport}""#;

/// Firewall: the client's real source port (`csport`), the destination (`cdip`, `cdport`,
/// `cdfqdn`) and the address and port the server saw (`ssip`, `ssport`).
pub const FIREWALL: Feed = Feed {
    sourcetype: "zscalernss-fw",
    vars: &[
        Var("epochtime", "d"),
        Var("recordid", "d"),
        Var("login", "s"),
        Var("dept", "s"),
        Var("location", "s"),
        Var("deviceowner", "s"),
        Var("devicehostname", "s"),
        Var("csip", "s"),
        Var("csport", "d"),
        Var("cdip", "s"),
        Var("cdport", "d"),
        Var("cdfqdn", "s"),
        Var("ssip", "s"),
        Var("ssport", "d"),
        Var("ipproto", "s"),
        Var("nwsvc", "s"),
        Var("nwapp", "s"),
        Var("action", "s"),
        Var("erulelabel", "s"),
        Var("inbytes", "ld"),
        Var("outbytes", "ld"),
        Var("durationms", "d"),
        Var("threatname", "s"),
    ],
};

/// DNS: the server port (`sport`; NSS has no client port for DNS) and the query and answer.
pub const DNS: Feed = Feed {
    sourcetype: "zscalernss-dns",
    vars: &[
        Var("epochtime", "d"),
        Var("recordid", "d"),
        Var("elogin", "s"),
        Var("edepartment", "s"),
        Var("elocation", "s"),
        Var("deviceowner", "s"),
        Var("devicehostname", "s"),
        Var("cip", "s"),
        Var("sip", "s"),
        Var("sport", "d"),
        Var("protocol", "s"),
        Var("istcp", "d"),
        Var("req", "s"),
        Var("reqtype", "s"),
        Var("res", "s"),
        Var("reqaction", "s"),
        Var("resaction", "s"),
        Var("reqrulelabel", "s"),
        Var("resrulelabel", "s"),
        Var("domcat", "s"),
        Var("dnsapp", "s"),
        Var("durationms", "d"),
    ],
};

/// Tunnel: one format for every record type of the feed (tunnel events, IKE phase 1 and 2,
/// samples); NSS writes "None" or nothing for a variable a record type lacks.
pub const TUNNEL: Feed = Feed {
    sourcetype: "zscalernss-tunnel",
    vars: &[
        Var("datetime", "s"),
        Var("recordid", "d"),
        Var("tunnelactionname", "s"),
        Var("tunneltype", "s"),
        Var("vpncredentialname", "s"),
        Var("elocationname", "s"),
        Var("sourceip", "s"),
        Var("srcport", "d"),
        Var("destvip", "s"),
        Var("dstport", "d"),
        Var("event", "s"),
        Var("eventreason", "s"),
        Var("ikeversion", "d"),
        Var("lifetime", "d"),
        Var("lifebytes", "d"),
        Var("spi_in", "lu"),
        Var("spi_out", "lu"),
        Var("algo", "s"),
        Var("authentication", "s"),
        Var("authtype", "s"),
        Var("protocol", "s"),
        Var("tunnelprotocol", "s"),
        Var("policydirection", "s"),
        Var("txbytes", "ld"),
        Var("rxbytes", "ld"),
    ],
};

pub const AUDIT: Feed = Feed {
    sourcetype: "zscalernss-audit",
    vars: &[
        Var("time", "s"),
        Var("recordid", "d"),
        Var("adminid", "s"),
        Var("clientip", "s"),
        Var("action", "s"),
        Var("category", "s"),
        Var("subcategory", "s"),
        Var("resource", "s"),
        Var("interface", "s"),
        Var("result", "s"),
        Var("errorcode", "s"),
        Var("auditlogtype", "s"),
        Var("epreaction", "s"),
        Var("epostaction", "s"),
    ],
};

pub const SAAS: Feed = Feed {
    sourcetype: "zscalernss-casb",
    vars: &[
        Var("time", "s"),
        Var("recordid", "d"),
        Var("company", "s"),
        Var("tenant", "s"),
        Var("user", "s"),
        Var("department", "s"),
        Var("applicationname", "s"),
        Var("filename", "s"),
        Var("filesource", "s"),
        Var("filemd5", "s"),
        Var("threatname", "s"),
        Var("policy", "s"),
        Var("dlpdictnames", "s"),
        Var("dlpdictcount", "s"),
        Var("dlpenginenames", "s"),
        Var("fullurl", "s"),
        Var("lastmodtime", "s"),
        Var("filescantimems", "d"),
        Var("filedownloadtimems", "d"),
    ],
};

/// SaaS Security Activity has no epoch time nor record id: without `time` the same user
/// downloading the same file again would be the same line, dropped as a repeat, and the
/// record's time its arrival. `act_type_name` tells a download from an upload.
pub const SAAS_ACTIVITY: Feed = Feed {
    sourcetype: "zscalernss-casb",
    vars: &[
        Var("time", "s"),
        Var("username", "s"),
        Var("tenant", "s"),
        Var("appname", "s"),
        Var("objtype1", "d"),
        Var("objnames1", "s"),
        Var("objnames2", "s"),
        Var("act_type_name", "s"),
    ],
};

impl Feed {
    /// The Feed Output Format, in NSS template syntax: literal braces escaped as `\{` `\}`, every
    /// value quoted, and the `\n` that ends each record.
    pub fn format(&self) -> String {
        let mut out = format!(r#"\{{"sourcetype":"{}","event":\{{"#, self.sourcetype);
        for (i, Var(name, ty)) in self.vars.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(r#""{name}":"%{ty}{{{name}}}""#));
        }
        out.push_str(r"\}\}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_format_is_the_one_design_describes() {
        let web = WEB.format();
        assert!(web.starts_with(
            r#"\{"sourcetype":"zscalernss-web","event":\{"epochtime":"%d{epochtime}","#
        ));
        assert!(
            web.ends_with(r#""riskscore":"%d{riskscore}"\}\}\n"#),
            "{web}"
        );
        for var in [
            "recordid",
            "elogin",
            "eurl",
            "ehost",
            "cintip",
            "devicehostname",
            "eua",
        ] {
            assert!(web.contains(&format!("{{{var}}}")), "{var}");
        }
    }

    #[test]
    fn every_key_is_one_ztel_reads() {
        for feed in [
            &WEB,
            &FIREWALL,
            &DNS,
            &TUNNEL,
            &AUDIT,
            &SAAS,
            &SAAS_ACTIVITY,
        ] {
            for Var(name, _) in feed.vars {
                assert!(
                    wire::keys::lookup(name).is_some(),
                    "{}: {name}",
                    feed.sourcetype
                );
            }
        }
    }
}

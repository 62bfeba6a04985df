//! The log types ztel builds records from, and the names NSS's sourcetypes and Zscaler's
//! products give them: what the format readers, the key tables and the fields already need to
//! know before an event is built, so it sits below all of them.

/// The log types ztel builds records from (DESIGN §3.1, and ZPA's AppProtection, which LSS also
/// streams), each with its record `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ZiaWeb,
    ZiaFirewall,
    ZiaDns,
    ZiaTunnel,
    ZiaAudit,
    ZiaSaas,
    ZiaSaasActivity,
    ZpaUserActivity,
    ZpaUserStatus,
    ZpaBrowserAccess,
    ZpaAppConnectorStatus,
    ZpaAudit,
    ZpaAppProtection,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::ZiaWeb,
        Kind::ZiaFirewall,
        Kind::ZiaDns,
        Kind::ZiaTunnel,
        Kind::ZiaAudit,
        Kind::ZiaSaas,
        Kind::ZiaSaasActivity,
        Kind::ZpaUserActivity,
        Kind::ZpaUserStatus,
        Kind::ZpaBrowserAccess,
        Kind::ZpaAppConnectorStatus,
        Kind::ZpaAudit,
        Kind::ZpaAppProtection,
    ];
    pub const COUNT: usize = Self::ALL.len();
    /// ZIA's log types and ZPA's: [`Kind::ALL`] holds ZIA's first (as [`Kind::is_zpa`] reads it).
    pub const ZIA: &'static [Kind] = Self::BY_FAMILY.0;
    pub const ZPA: &'static [Kind] = Self::BY_FAMILY.1;
    const BY_FAMILY: (&'static [Kind], &'static [Kind]) =
        Self::ALL.split_at(Kind::ZpaUserActivity as usize);

    /// The record's `kind` value (DESIGN §2.4).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ZiaWeb => "zia.web",
            Kind::ZiaFirewall => "zia.firewall",
            Kind::ZiaDns => "zia.dns",
            Kind::ZiaTunnel => "zia.tunnel",
            Kind::ZiaAudit => "zia.audit",
            Kind::ZiaSaas => "zia.saas",
            Kind::ZiaSaasActivity => "zia.saas_activity",
            Kind::ZpaUserActivity => "zpa.user_activity",
            Kind::ZpaUserStatus => "zpa.user_status",
            Kind::ZpaBrowserAccess => "zpa.browser_access",
            Kind::ZpaAppConnectorStatus => "zpa.app_connector_status",
            Kind::ZpaAudit => "zpa.audit",
            Kind::ZpaAppProtection => "zpa.app_protection",
        }
    }

    /// ZPA (LSS) rather than ZIA (NSS): the device tag, and which times mean what.
    pub fn is_zpa(self) -> bool {
        (self as u8) >= Kind::ZpaUserActivity as u8
    }
}

/// The log types an NSS sourcetype may name: one, SaaS Security's two for `zscalernss-casb`,
/// none for a sourcetype that is no NSS one.
pub(crate) fn sourcetype_kinds(sourcetype: &str) -> &'static [Kind] {
    match sourcetype {
        "zscalernss-web" => &[Kind::ZiaWeb],
        "zscalernss-fw" => &[Kind::ZiaFirewall],
        "zscalernss-dns" => &[Kind::ZiaDns],
        "zscalernss-tunnel" => &[Kind::ZiaTunnel],
        "zscalernss-audit" => &[Kind::ZiaAudit],
        "zscalernss-casb" => &[Kind::ZiaSaas, Kind::ZiaSaasActivity],
        "zscalernss-saas_security" => &[Kind::ZiaSaas],
        "zscalernss-saas_security_activity" => &[Kind::ZiaSaasActivity],
        _ => &[],
    }
}

/// The `sourcetype` that a Zscaler CEF product or LEEF event names.
pub(crate) fn sourcetype(product: &str) -> Option<&'static str> {
    self::product(product).map(|(sourcetype, _)| sourcetype)
}

/// The log type that a Zscaler product names (as a JSON frame's `product` does).
pub(crate) fn product_kind(product: &str) -> Option<Kind> {
    self::product(product).map(|(_, kind)| kind)
}

/// The `sourcetype` and log type that a Zscaler CEF product or LEEF event names (the products of
/// Zscaler's ArcSight/Sentinel templates; Exabeam's parsers spell one `NSSFWLog`, so case is
/// ignored).
pub(crate) fn product(product: &str) -> Option<(&'static str, Kind)> {
    const SAAS: (&str, Kind) = ("zscalernss-saas_security", Kind::ZiaSaas);
    const PRODUCTS: [(&str, (&str, Kind)); 13] = [
        ("NSSWeblog", ("zscalernss-web", Kind::ZiaWeb)),
        ("NSSFWlog", ("zscalernss-fw", Kind::ZiaFirewall)),
        ("NSSDNSlog", ("zscalernss-dns", Kind::ZiaDns)),
        ("NSSTunnellog", ("zscalernss-tunnel", Kind::ZiaTunnel)),
        ("NSSAuditlog", ("zscalernss-audit", Kind::ZiaAudit)),
        (
            "NSSCasbactivitylog",
            ("zscalernss-saas_security_activity", Kind::ZiaSaasActivity),
        ),
        ("NSSCasbcloudstoragelog", SAAS),
        ("NSSCasbcollablog", SAAS),
        ("NSSCasbcrmlog", SAAS),
        ("NSSCasbemaillog", SAAS),
        ("NSSCasbfilesharinglog", SAAS),
        ("NSSCasbitsmlog", SAAS),
        ("NSSCasbrepolog", SAAS),
    ];
    let product = product.trim_ascii();
    PRODUCTS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(product))
        .map(|(_, named)| *named)
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn the_families_split_all_where_zpa_begins() {
        assert_eq!((Kind::ZIA.len(), Kind::ZPA.len()), (7, 6));
        assert!(Kind::ZIA.iter().all(|k| !k.is_zpa()));
        assert!(Kind::ZPA.iter().all(|k| k.is_zpa()));
    }
}

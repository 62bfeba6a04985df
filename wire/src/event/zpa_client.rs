//! Which ZPA clients are people's machines (DESIGN §2.4 "Devices"). LSS logs the sessions and
//! connections of ZPA's own services, and of connectors that forward many machines' traffic, as
//! it logs a Client Connector's, under a pseudo-user or a client type of their own. Keyed by that
//! user (no hostname: the user), every such session of a tenant would pile onto one device that
//! does not exist, with every IP the service ever used. Their records are still written; they
//! give the registry no device and no user.

use std::borrow::Cow;

use super::Device;
use crate::device::Tag;

/// The user LSS reports for its own control connections.
pub const LSS_CLIENT_USER: &str = "ZPA LSS Client";

/// How LSS names the users of ZPA's own services: "ZPA LSS Client", "ZPA IP Anchoring" (ZIA
/// Service Edges forwarding anchored traffic, in Elastic's User Status samples).
const SERVICE_USER_PREFIX: &str = "ZPA ";

/// The client type of a Browser Access session (User Activity's `ClientType` for one).
pub const BROWSER: &str = "zpn_client_type_exporter";

/// The `ClientType`s of ZPA's client-type list that are no end user's machine: Browser Access
/// ("Web Browser", authenticated or not), Cloud Browser isolation, ZIA Service Edge (IP
/// anchoring), Cloud and Branch Connectors (each forwards the traffic of many machines), ZIA
/// Inspection and the LSS itself. Client Connector, its partner and VDI editions and the machine
/// tunnel run on a machine: those stay devices, as does a type this list does not know.
const NOT_A_MACHINE: [&str; 8] = [
    BROWSER,
    "zpn_client_type_exporter_noauth",
    "zpn_client_type_browser_isolation",
    "zpn_client_type_ip_anchoring",
    "zpn_client_type_edge_connector",
    "zpn_client_type_branch_connector",
    "zpn_client_type_zia_inspection",
    "zpn_client_type_slogger",
];

/// True when a ZPA record's client is no person's machine: a user of ZPA's own services,
/// whatever hostname it carries (the LSS client's samples carry one), or, without a hostname,
/// a client type of [`NOT_A_MACHINE`]. A hostname with such a type still names a machine.
pub fn is_service(user: Option<&str>, has_hostname: bool, client_type: Option<&str>) -> bool {
    user.is_some_and(|u| u.starts_with(SERVICE_USER_PREFIX))
        || !has_hostname && client_type.is_some_and(|t| NOT_A_MACHINE.contains(&t))
}

/// The device a User Activity or User Status record names: keyed by its hostname, else its user,
/// with its IP and user; none for a service ([`is_service`]).
pub fn device<'a>(
    hostname: Option<Cow<'a, str>>,
    user: Option<Cow<'a, str>>,
    client_type: Option<&str>,
    ip: Option<Cow<'a, str>>,
) -> Option<Device<'a>> {
    if is_service(user.as_deref(), hostname.is_some(), client_type) {
        return None;
    }
    Device::of(hostname.or_else(|| user.clone()), Tag::Zpa, ip, user)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Option<&str> = Some("jdoe@example.com");

    #[test]
    fn zpa_service_users_are_services_with_or_without_a_hostname() {
        for user in [LSS_CLIENT_USER, "ZPA IP Anchoring", "ZPA Something New"] {
            for has_hostname in [false, true] {
                assert!(is_service(Some(user), has_hostname, None), "{user}");
                let zapp = Some("zpn_client_type_zapp");
                assert!(is_service(Some(user), has_hostname, zapp), "{user}");
            }
        }
        // A person whose name merely begins so is not.
        assert!(!is_service(Some("ZPAdmin@example.com"), false, None));
        assert!(!is_service(Some("zpa ops@example.com"), false, None));
    }

    #[test]
    fn client_types_that_are_no_machine_are_services_without_a_hostname() {
        for client_type in NOT_A_MACHINE {
            assert!(is_service(USER, false, Some(client_type)), "{client_type}");
            assert!(!is_service(USER, true, Some(client_type)), "{client_type}");
        }
    }

    #[test]
    fn client_connectors_and_unknown_or_absent_types_are_machines() {
        for client_type in [
            "zpn_client_type_zapp",
            "zpn_client_type_zapp_partner",
            "zpn_client_type_vdi",
            "zpn_client_type_machine_tunnel",
            "zpn_client_type_something_new",
        ] {
            assert!(!is_service(USER, false, Some(client_type)), "{client_type}");
        }
        // Older field sets have no ClientType: the user's device, as before.
        assert!(!is_service(USER, false, None));
        assert!(!is_service(None, true, None));
    }

    #[test]
    fn the_device_is_the_hostname_else_the_user_and_none_for_a_service() {
        let text = |s: &'static str| Some(Cow::Borrowed(s));
        let ip = text("10.1.2.3");
        let named = device(text("LAPTOP-7"), text("jdoe"), None, ip.clone());
        assert_eq!(named.map(|d| d.key), text("LAPTOP-7"));
        let by_user = device(None, text("jdoe"), Some("zpn_client_type_zapp"), ip.clone());
        let by_user = by_user.expect("the user's device");
        assert_eq!(
            (by_user.key, by_user.user),
            (Cow::Borrowed("jdoe"), text("jdoe"))
        );
        let anchoring = text("ZPA IP Anchoring");
        let client_type = Some("zpn_client_type_ip_anchoring");
        assert_eq!(device(None, anchoring, client_type, ip.clone()), None);
        let browser = Some("zpn_client_type_exporter");
        assert_eq!(device(None, text("jdoe"), browser, ip), None);
    }
}

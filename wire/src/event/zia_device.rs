//! Who a ZIA web, firewall or DNS record is about: the device's hostname, else its client IP,
//! with the user; and what is no device.

use std::borrow::Cow;

use super::{Device, Reason};
use crate::device::{device_ip, Tag};
use crate::fields::Fields;
use crate::keys::Field;

/// Who a ZIA web, firewall or DNS record is about, as all three read it.
pub struct ZiaWho<'a> {
    /// The device's hostname, else the source host.
    pub hostname: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub src_ip: Option<Cow<'a, str>>,
    pub device: Option<Device<'a>>,
}

/// Reads [`ZiaWho`]; `hostname` and `user` are the scratch their decoded text may need.
#[inline(always)]
pub fn zia_who<'a>(
    f: &Fields<'a>,
    hostname: &'a mut String,
    user: &'a mut String,
) -> Result<ZiaWho<'a>, Reason> {
    // The source host stands in for an absent hostname, not for one a client's text contested
    // (it could write the source host too).
    let hostname = match f.is_contested(Field::DeviceHostname) {
        true => None,
        false => f
            .text_in(Field::DeviceHostname, hostname)
            .or_else(|| f.text(Field::SourceHost)),
    };
    let user = f.text_in(Field::Login, user);
    let src_ip = f.ip(Field::ClientIp);
    let device = zia_device(&hostname, &src_ip, &user)?;
    Ok(ZiaWho {
        hostname,
        user,
        src_ip,
        device,
    })
}

/// The device a ZIA record names: its hostname, else its client IP, with that IP and the user.
/// Neither named: the record is no event of a device (`no_device`). The unspecified address
/// (`0.0.0.0`, `::`), which NSS writes where it has no client IP, is kept in the record but is no
/// device's address: keyed by it, every such record of a tenant would pile onto one device that
/// does not exist, and it would join real devices' IPs. So is a client IP that is no address at
/// all (`Unknown`, as admin audit samples have it); the registry keeps only addresses too.
fn zia_device<'a>(
    hostname: &Option<Cow<'a, str>>,
    src_ip: &Option<Cow<'a, str>>,
    user: &Option<Cow<'a, str>>,
) -> Result<Option<Device<'a>>, Reason> {
    if hostname.is_none() && src_ip.is_none() {
        return Err(Reason::NoDevice);
    }
    let (key, ip) = match hostname {
        Some(hostname) => {
            let unspecified = |ip: &str| {
                // Parsed only when it could be one (`::0`, `0:0:0:0:0:0:0:0`,
                // `::ffff:0.0.0.0` are too).
                (ip.starts_with('0') || ip.starts_with(':'))
                    && ip
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|a| a.to_canonical().is_unspecified())
            };
            let ip = src_ip.clone().filter(|ip| !unspecified(ip));
            (Some(hostname.clone()), ip)
        }
        // The IP is the device's name: one address has one name, however it was written.
        None => {
            let ip = src_ip.as_ref().and_then(|ip| address(ip));
            (ip.clone(), ip)
        }
    };
    Ok(Device::of(key, Tag::Zia, ip, user.clone()))
}

/// `text` as an address names a device: its one text ([`device_ip`]), borrowed when it is
/// that already; `None` for the unspecified address and for what is no address.
fn address<'a>(text: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    match text {
        Cow::Borrowed(text) => device_ip(text),
        Cow::Owned(text) => Some(Cow::Owned(device_ip(text)?.into_owned())),
    }
}

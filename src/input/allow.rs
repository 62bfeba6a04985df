//! The "Log Input Allowed IPs" of an input (DESIGN §2.2): checked at every accept and datagram.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Peers an input admits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    nets: Vec<IpNet>,
}

impl AllowList {
    /// Peers are compared in their canonical form ([`admits`](Self::admits)), so entries are
    /// too: a dual-stack listener's log names an IPv4 peer `::ffff:a.b.c.d`, and an entry
    /// copied from it must admit that peer.
    pub fn new(nets: Vec<IpNet>) -> Self {
        let mut canonical = Vec::with_capacity(nets.len());
        for net in nets {
            match net {
                // Only IPv4 peers are there, and they are compared as IPv4.
                IpNet::V6(v6) if v6.prefix_len() >= MAPPED_PREFIX && is_mapped(v6) => {
                    canonical.extend(mapped_v4(v6));
                }
                IpNet::V6(v6) => {
                    canonical.extend(mapped_v4(v6));
                    canonical.push(net);
                }
                IpNet::V4(_) => canonical.push(net),
            }
        }
        AllowList { nets: canonical }
    }

    pub fn admits(&self, ip: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; the list is written in IPv4.
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Whether it admits every address a peer of a listener may have (IPv4's, and with `v6`
    /// IPv6's too): what a peer whose address could not be read needs.
    pub fn admits_every(&self, v6: bool) -> bool {
        let all = |v4: bool| {
            self.nets
                .iter()
                .any(|net| net.prefix_len() == 0 && matches!(net, IpNet::V4(_)) == v4)
        };
        all(true) && (!v6 || all(false))
    }
}

/// `::ffff:0:0/96`, where IPv6 writes IPv4 addresses.
const MAPPED_PREFIX: u8 = 96;

fn is_mapped(net: Ipv6Net) -> bool {
    net.network().to_ipv4_mapped().is_some()
}

/// The IPv4 addresses a v6 network holds as mapped ones: all of them when it holds the whole
/// mapped range (`::/0`), those of its last 32 bits when it lies within it.
fn mapped_v4(net: Ipv6Net) -> Option<IpNet> {
    let range = Ipv6Net::new(std::net::Ipv6Addr::from_bits(0xffff << 32), MAPPED_PREFIX).ok()?;
    if net.prefix_len() < MAPPED_PREFIX {
        return net.contains(&range).then(|| IpNet::V4(Ipv4Net::default()));
    }
    let v4 = net.network().to_ipv4_mapped()?;
    Ipv4Net::new(v4, net.prefix_len() - MAPPED_PREFIX)
        .ok()
        .map(IpNet::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        // As the config reads them: a network, or an address alone.
        let net = |e: &&str| {
            e.parse::<IpNet>()
                .unwrap_or_else(|_| IpNet::from(e.parse::<IpAddr>().unwrap()))
        };
        AllowList::new(entries.iter().map(net).collect())
    }

    #[test]
    fn allow_list_takes_networks_and_mapped_v4() {
        let list = list(&["10.1.2.3/32", "192.168.0.0/16", "::1/128"]);
        assert!(list.admits("10.1.2.3".parse().unwrap()));
        assert!(!list.admits("10.1.2.4".parse().unwrap()));
        assert!(list.admits("192.168.7.9".parse().unwrap()));
        assert!(list.admits("::ffff:192.168.7.9".parse().unwrap()));
        assert!(list.admits("::1".parse().unwrap()));
        assert!(!list.admits("::2".parse().unwrap()));
    }

    #[test]
    fn mapped_entries_admit_the_ipv4_peers_they_name() {
        // As the log names a peer of a dual-stack listener, and as an admin may copy it.
        let allow = list(&["::ffff:127.0.0.1", "::ffff:10.1.0.0/112"]);
        for peer in [
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "10.1.9.9",
            "::ffff:10.1.9.9",
        ] {
            assert!(allow.admits(peer.parse().unwrap()), "{peer}");
        }
        for peer in ["127.0.0.2", "10.2.0.1", "::1"] {
            assert!(!allow.admits(peer.parse().unwrap()), "{peer}");
        }
        // A v6 network that holds the whole mapped range holds every IPv4 address.
        let allow = list(&["::/0"]);
        assert!(allow.admits_every(true) && allow.admits_every(false));
        // Every address, for a peer whose address could not be read: a /0 of each family the
        // listener takes, not a list that happens to hold the unspecified address.
        assert!(list(&["0.0.0.0/0"]).admits_every(false));
        assert!(!list(&["0.0.0.0/0"]).admits_every(true));
        assert!(!list(&["0.0.0.0/8", "2001:db8::/32"]).admits_every(false));
        assert!(!list(&["127.0.0.1", "::1"]).admits_every(true));
        assert!(allow.admits("192.0.2.1".parse().unwrap()));
        assert!(allow.admits("2001:db8::1".parse().unwrap()));
        let allow = list(&["2001:db8::/32"]);
        assert!(!allow.admits("192.0.2.1".parse().unwrap()));
    }
}

//! The "Log Input Allowed IPs" of an input (DESIGN §2.2): checked at every accept and datagram.

use std::net::IpAddr;

use ipnet::IpNet;

/// Peers an input admits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    nets: Vec<IpNet>,
}

impl AllowList {
    pub fn new(nets: Vec<IpNet>) -> Self {
        AllowList { nets }
    }

    pub fn admits(&self, ip: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; the list is written in IPv4.
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::new(entries.iter().map(|e| e.parse().unwrap()).collect())
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
}

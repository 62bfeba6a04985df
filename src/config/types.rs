//! Config values with a type of their own, read once when the file is: an input's address ("" is
//! off) and an allow-list entry (an IP or a CIDR).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A listening address; `""` in the file (and on the command line) turns the input off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Address(pub Option<SocketAddr>);

impl Address {
    pub fn on(addr: SocketAddr) -> Address {
        Address(Some(addr))
    }

    pub fn get(self) -> Option<SocketAddr> {
        self.0
    }
}

impl FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Address(None));
        }
        s.parse()
            .map(Address::on)
            .map_err(|_| format!("{s:?} is not IP:PORT (\"[::1]:1514\" for IPv6), or \"\" for off"))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => Ok(()),
        }
    }
}

/// An entry of `allowed_ips`: a network, or one address (a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let net = s
            .parse::<IpNet>()
            .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| format!("{s:?} is not an IP or CIDR"))?;
        // "10.0.0.1/8" admits 10.0.0.0/8, which its writer may not have meant: say so.
        if net.trunc() != net {
            return Err(format!(
                "{s:?} has host bits set: write {:?} for the network, or the address alone",
                net.trunc().to_string()
            ));
        }
        Ok(Cidr(net))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Both types are written as strings in the file.
macro_rules! as_string {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

as_string!(Address, Cidr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_and_print_back() {
        for text in ["", "0.0.0.0:1514", "[::1]:6514", "127.0.0.1:0"] {
            let a: Address = text.parse().unwrap();
            assert_eq!(a.to_string(), text);
        }
        assert!("localhost:1514".parse::<Address>().is_err());
        assert!("1514".parse::<Address>().is_err());
    }

    #[test]
    fn allow_entries_are_ips_or_networks() {
        let c: Cidr = " 10.1.2.3 ".parse().unwrap();
        assert_eq!(c.to_string(), "10.1.2.3/32");
        let c: Cidr = "fd00::/8".parse().unwrap();
        assert_eq!(c.to_string(), "fd00::/8");
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        let host_bits = "10.0.0.1/8".parse::<Cidr>().unwrap_err();
        assert!(host_bits.contains("\"10.0.0.0/8\""), "{host_bits}");
        assert!("fd00::1/8".parse::<Cidr>().is_err());
        assert!("ten".parse::<Cidr>().is_err());
    }
}

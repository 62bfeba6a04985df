//! Who a device is, record after record (loadgen's `--churn N`, DESIGN §7).
//!
//! Without churn a device keeps one IP and its owner for the whole run, so a collector's registry
//! and attribution see a still picture. Real devices move: DHCP hands a laptop a new lease, and
//! someone else signs in on a shared machine. With churn N, every N of a device's records it takes
//! a new user or a new IP, in turn (a new user first), so each kind of change comes every 2N
//! records. A new user is another user of the run, wrapping round; a new IP is one that no device
//! holds at the start, until the generations wrap round the 10.20.0.0–10.219.255.255 range and an
//! address comes back to another device, as a DHCP pool's do.

use std::collections::HashMap;

use super::Cardinality;

/// A device's owner, user and address for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub owner: u64,
    pub user: u64,
    /// The [`super::Addr::Client`] number of its address: the device's own number until its first
    /// new lease.
    pub ip: u64,
    /// How many times someone new has signed in on the device (a new ZPA session each time).
    pub sign_ins: u64,
}

/// The records written so far of each device, when there is churn.
#[derive(Debug, Clone, Default)]
pub(crate) struct Churn {
    /// A change every this many records of a device; 0 for none.
    every: u64,
    records: HashMap<u64, u64>,
}

impl Churn {
    /// A change every `n` records of each device; `n = 0` for none.
    pub fn every(n: u64) -> Churn {
        Churn {
            every: n,
            records: HashMap::new(),
        }
    }

    /// Who `device` is in its next record, which this counts.
    pub fn next(&mut self, device: u64, cardinality: &Cardinality) -> Identity {
        let users = cardinality.users.max(1);
        let owner = device % users;
        if self.every == 0 {
            return Identity {
                owner,
                user: owner,
                ip: device,
                sign_ins: 0,
            };
        }
        let seen = self.records.entry(device).or_insert(0);
        let changes = *seen / self.every;
        *seen += 1;
        // Changes 1, 3, 5, … are sign-ins, 2, 4, 6, … new leases.
        let sign_ins = changes.div_ceil(2);
        let leases = changes / 2;
        Identity {
            owner,
            user: (owner + sign_ins % users) % users,
            ip: device.wrapping_add(leases.wrapping_mul(cardinality.devices.max(1))),
            sign_ins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARDINALITY: Cardinality = Cardinality {
        devices: 10,
        users: 4,
        servers: 1,
    };

    #[test]
    fn without_churn_a_device_keeps_its_ip_and_owner() {
        let mut churn = Churn::every(0);
        for _ in 0..100 {
            let id = churn.next(6, &CARDINALITY);
            assert_eq!(id, churn.next(6, &CARDINALITY));
            assert_eq!((id.owner, id.user, id.ip, id.sign_ins), (2, 2, 6, 0));
        }
    }

    #[test]
    fn with_churn_a_user_then_an_ip_changes_every_n_records() {
        let mut churn = Churn::every(3);
        let ids: Vec<Identity> = (0..12).map(|_| churn.next(6, &CARDINALITY)).collect();
        let users: Vec<u64> = ids.iter().map(|i| i.user).collect();
        let ips: Vec<u64> = ids.iter().map(|i| i.ip).collect();
        assert_eq!(users, [2, 2, 2, 3, 3, 3, 3, 3, 3, 0, 0, 0]);
        assert_eq!(ips, [6, 6, 6, 6, 6, 6, 16, 16, 16, 16, 16, 16]);
        assert!(ids.iter().all(|i| i.owner == 2));
        // Each device counts its own records.
        assert_eq!(churn.next(7, &CARDINALITY).ip, 7);
    }
}

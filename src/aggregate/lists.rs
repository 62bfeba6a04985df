//! A device's IPs and users, as [`Sym`]s: three in the device itself (most devices have one IP
//! and one user), more in blocks of a shared pool, sized by powers of two up to both caps, and
//! reused through free lists when a device outgrows one. No allocation per device.

use super::strings::Sym;
use crate::batch::MAX_PER_DEVICE;

/// Values kept in the device itself.
const INLINE: usize = 3;
/// The most values a device holds: its IPs and its users, each up to the cap.
const MOST: usize = 2 * MAX_PER_DEVICE;
/// Block sizes 4, 8, …, `MOST`.
const CLASSES: usize = (MOST / 4).trailing_zeros() as usize + 1;

/// Which of a device's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ip,
    User,
}

/// Where a device's values are: in `at` while they fit, else in the pool at `at[0]`. IPs come
/// first, then users.
#[derive(Debug, Clone, Copy, Default)]
pub struct List {
    at: [u32; INLINE],
    ips: u8,
    users: u8,
}

impl List {
    pub fn len(&self, kind: Kind) -> usize {
        usize::from(match kind {
            Kind::Ip => self.ips,
            Kind::User => self.users,
        })
    }

    fn total(&self) -> usize {
        usize::from(self.ips) + usize::from(self.users)
    }
}

/// The pool of blocks.
#[derive(Default)]
pub struct Lists {
    pool: Vec<Sym>,
    /// Offsets of unused blocks, per size class.
    free: [Vec<u32>; CLASSES],
}

impl Lists {
    /// A device's values of one kind, in the order they were added.
    pub fn get<'l>(&'l self, list: &'l List, kind: Kind) -> &'l [Sym] {
        let all = self.all(list);
        let ips = usize::from(list.ips);
        match kind {
            Kind::Ip => all.get(..ips),
            Kind::User => all.get(ips..),
        }
        .unwrap_or_default()
    }

    fn all<'l>(&'l self, list: &'l List) -> &'l [Sym] {
        let n = list.total();
        if n <= INLINE {
            &list.at[..n]
        } else {
            let at = list.at[0] as usize;
            self.pool.get(at..at + n).unwrap_or_default()
        }
    }

    /// Adds `sym` after `list`'s values of `kind`, or before them when not `last` (seen before
    /// them); the caller checked the cap and that it is not there. False when the pool is full
    /// (4 G values).
    pub fn add(&mut self, list: &mut List, kind: Kind, sym: Sym, last: bool) -> bool {
        let n = list.total();
        if n >= MOST {
            return false;
        }
        let mut values = [0; MOST];
        values[..n].copy_from_slice(self.all(list));
        let at = match (kind, last) {
            (Kind::Ip, true) => usize::from(list.ips),
            (Kind::Ip, false) => 0,
            (Kind::User, true) => n,
            (Kind::User, false) => usize::from(list.ips),
        };
        values.copy_within(at..n, at + 1);
        values[at] = sym;
        if n + 1 > INLINE && (n <= INLINE || block(n) != block(n + 1)) {
            let Some(offset) = self.take(block(n + 1)) else {
                return false;
            };
            if n > INLINE {
                self.free[class(block(n))].push(list.at[0]);
            }
            list.at[0] = offset;
        }
        match kind {
            Kind::Ip => list.ips += 1,
            Kind::User => list.users += 1,
        }
        if n < INLINE {
            list.at[..=n].copy_from_slice(&values[..=n]);
        } else {
            let offset = list.at[0] as usize;
            self.pool[offset..=offset + n].copy_from_slice(&values[..=n]);
        }
        true
    }

    /// Drops the first (oldest) of `list`'s values of `kind` and appends `sym` after the others,
    /// or puts it in the first's place when not `last` (seen before the others): how a full
    /// list takes a new value. The caller checked that `sym` is not there. False when there is
    /// no value of `kind` to drop.
    pub fn push_out(&mut self, list: &mut List, kind: Kind, sym: Sym, last: bool) -> bool {
        let Some(values) = self.of_kind_mut(list, kind) else {
            return false;
        };
        let Some(end) = values.len().checked_sub(1) else {
            return false;
        };
        if last {
            values.rotate_left(1);
            values[end] = sym;
        } else {
            values[0] = sym;
        }
        true
    }

    /// Moves `sym`, one of `list`'s values of `kind`, after the others (it was seen last);
    /// true when it was not there already.
    pub fn to_back(&mut self, list: &mut List, kind: Kind, sym: Sym) -> bool {
        let Some(values) = self.of_kind_mut(list, kind) else {
            return false;
        };
        match values.iter().position(|v| *v == sym) {
            Some(at) if at + 1 < values.len() => {
                values[at..].rotate_left(1);
                true
            }
            _ => false,
        }
    }

    /// Each value of `list` replaced by what `f` makes of it (the registry's text rebuilt).
    pub fn remap(&mut self, list: &mut List, mut f: impl FnMut(Sym) -> Sym) {
        for sym in self.all_mut(list).into_iter().flatten() {
            *sym = f(*sym);
        }
    }

    /// `list`'s values of `kind`, to change in place.
    fn of_kind_mut<'l>(&'l mut self, list: &'l mut List, kind: Kind) -> Option<&'l mut [Sym]> {
        let ips = usize::from(list.ips);
        let all = self.all_mut(list)?;
        Some(match kind {
            Kind::Ip => &mut all[..ips],
            Kind::User => &mut all[ips..],
        })
    }

    /// Every value of `list`, IPs then users, to change in place.
    fn all_mut<'l>(&'l mut self, list: &'l mut List) -> Option<&'l mut [Sym]> {
        let n = list.total();
        if n <= INLINE {
            Some(&mut list.at[..n])
        } else {
            let at = list.at[0] as usize;
            self.pool.get_mut(at..at + n)
        }
    }

    /// A block of `size`: a freed one, else new at the pool's end.
    fn take(&mut self, size: usize) -> Option<u32> {
        if let Some(offset) = self.free[class(size)].pop() {
            return Some(offset);
        }
        let offset = u32::try_from(self.pool.len()).ok()?;
        u32::try_from(self.pool.len() + size).ok()?;
        self.pool.resize(self.pool.len() + size, 0);
        Some(offset)
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.pool.capacity() * 4 + self.free.iter().map(|f| f.capacity() * 4).sum::<usize>()
    }
}

/// The block that holds `n` values (more than fit inline).
fn block(n: usize) -> usize {
    n.next_power_of_two().max(4)
}

fn class(size: usize) -> usize {
    (size / 4).trailing_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_kind_and_order_as_they_move_to_larger_blocks() {
        let mut lists = Lists::default();
        let mut a = List::default();
        let mut b = List::default();
        // Interleaved, so that both devices outgrow blocks and reuse freed ones.
        for i in 0..MAX_PER_DEVICE as u32 {
            for list in [&mut a, &mut b] {
                assert!(lists.add(list, Kind::User, 1000 + i, true));
                assert!(lists.add(list, Kind::Ip, i, true));
            }
            let ips: Vec<u32> = (0..=i).collect();
            let users: Vec<u32> = (1000..=1000 + i).collect();
            for list in [&a, &b] {
                assert_eq!(lists.get(list, Kind::Ip), ips);
                assert_eq!(lists.get(list, Kind::User), users);
            }
        }
        assert!(!lists.add(&mut a, Kind::Ip, 7, true), "full");
        // Full, a list takes a new value by dropping its oldest; the other kind stays.
        assert!(lists.push_out(&mut a, Kind::Ip, 99, true));
        let ips: Vec<u32> = (1..MAX_PER_DEVICE as u32).chain([99]).collect();
        assert_eq!(lists.get(&a, Kind::Ip), ips);
        assert!(lists.push_out(&mut a, Kind::User, 2000, true));
        let users: Vec<u32> = (1001..1000 + MAX_PER_DEVICE as u32).chain([2000]).collect();
        assert_eq!(lists.get(&a, Kind::User), users);
        assert_eq!(lists.get(&a, Kind::Ip), ips);
        // Two devices of 64 values, and the blocks they outgrew, all reused.
        assert!(lists.pool.len() <= 2 * (4 + 8 + 16 + 32 + 64));
        let mut c = List::default();
        assert!(lists.get(&c, Kind::Ip).is_empty());
        assert!(
            !lists.push_out(&mut c, Kind::Ip, 1, true),
            "nothing to drop"
        );
        // Inline, too.
        assert!(lists.add(&mut c, Kind::Ip, 1, true) && lists.add(&mut c, Kind::User, 2, true));
        assert!(lists.push_out(&mut c, Kind::Ip, 3, true));
        assert_eq!(
            (lists.get(&c, Kind::Ip), lists.get(&c, Kind::User)),
            (&[3][..], &[2][..])
        );
        // A value seen again goes after the others of its kind, and only those move.
        assert!(lists.add(&mut c, Kind::Ip, 4, true) && lists.add(&mut c, Kind::User, 5, true));
        assert!(lists.to_back(&mut c, Kind::Ip, 3));
        assert!(!lists.to_back(&mut c, Kind::Ip, 3), "already last");
        assert!(!lists.to_back(&mut c, Kind::Ip, 2), "a user, not an IP");
        assert!(lists.to_back(&mut c, Kind::User, 2));
        assert_eq!(
            (lists.get(&c, Kind::Ip), lists.get(&c, Kind::User)),
            (&[4, 3][..], &[5, 2][..])
        );
        // Seen before the others: first, or in the first's place when full.
        assert!(lists.add(&mut c, Kind::Ip, 6, false) && lists.add(&mut c, Kind::User, 7, false));
        assert_eq!(
            (lists.get(&c, Kind::Ip), lists.get(&c, Kind::User)),
            (&[6, 4, 3][..], &[7, 5, 2][..])
        );
        assert!(lists.push_out(&mut c, Kind::User, 8, false));
        assert_eq!(lists.get(&c, Kind::User), [8, 5, 2]);
        assert!(lists.to_back(&mut a, Kind::Ip, 1));
        let ips: Vec<u32> = (2..MAX_PER_DEVICE as u32).chain([99, 1]).collect();
        assert_eq!(lists.get(&a, Kind::Ip), ips);
        assert_eq!(lists.get(&a, Kind::User), users);
    }
}

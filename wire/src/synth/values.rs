//! How records write what several log types share: users, devices' names and addresses,
//! servers' addresses and times.

use std::fmt::{self, Write as _};

use crate::time::civil::civil_from_days;

/// A user as records name them: as a device's owner (`deviceowner`, `user00042`) or signed in
/// (`login`, LSS's `Username`: `user00042@corp.example.com`; NSS's `elogin` URL-encodes it whole,
/// `user00042%40corp.example.com`, and templates that name `%s{elogin}` get that).
#[derive(Clone, Copy)]
pub(crate) enum User {
    Owner(u64),
    Login(u64),
    ELogin(u64),
}

impl User {
    /// The login as an NSS `e…` field writes it.
    pub(crate) fn encoded(self) -> User {
        match self {
            User::Login(n) => User::ELogin(n),
            other => other,
        }
    }
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            User::Owner(n) => write!(f, "user{n:05}"),
            User::Login(n) => write!(f, "user{n:05}@corp.example.com"),
            User::ELogin(n) => write!(f, "user{n:05}%40corp.example.com"),
        }
    }
}

/// Device `n`'s hostname (`LAPTOP-00002A`).
#[derive(Clone, Copy)]
pub(crate) struct Hostname(pub u64);

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LAPTOP-{:06X}", self.0)
    }
}

/// An address as records write it: a device's private one, the public one its traffic leaves
/// from (the NAT or tunnel source) or a server's, of device or server `n`.
#[derive(Clone, Copy)]
pub(crate) enum Addr {
    Client(u64),
    Public(u64),
    Server(u64),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Addr::Client(n) => {
                let (a, b, c) = octets(n);
                write!(f, "10.{}.{b}.{c}", 20 + a)
            }
            Addr::Public(n) => write!(f, "198.51.100.{}", n % 250),
            Addr::Server(n) => {
                let (a, b, c) = octets(n);
                write!(f, "{}.{b}.{c}.10", 13 + a)
            }
        }
    }
}

/// Three octets that tell up to 200 × 65,536 devices or servers apart.
fn octets(n: u64) -> (u64, u64, u64) {
    (n / 65536 % 200, n / 256 % 256, n % 256)
}

/// A time's civil parts in UTC.
struct Civil {
    y: i64,
    m: u32,
    d: u32,
    hh: u64,
    mm: u64,
    ss: u64,
    /// The weekday's and the month's names (`Fri`, `May`).
    weekday: &'static str,
    mon: &'static str,
}

impl Civil {
    /// `secs` since the epoch.
    fn of(secs: u64) -> Civil {
        let day = secs / 86_400;
        let (y, m, d) = civil_from_days(day as i64);
        Civil {
            y,
            m,
            d,
            hh: secs / 3600 % 24,
            mm: secs / 60 % 60,
            ss: secs % 60,
            weekday: DAYS[(day % 7) as usize],
            mon: MONTHS[(m - 1) as usize],
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// From Thursday, 1970-01-01's.
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// A feed time (seconds since the epoch) in one of the forms records write it in, in UTC.
#[derive(Clone, Copy)]
pub(crate) enum Stamp {
    /// `Fri May 31 17:35:42 2019`, C's ctime (NSS's default `time`, LSS's LogTimestamp).
    Ctime(u64),
    /// `May  1 17:35:42`, an RFC 3164 header's.
    Syslog(u64),
    /// `May 01 17:35:42`, the header Zscaler's CEF and LEEF presets write.
    SyslogZeroDay(u64),
    /// `May 01 2019 17:35:42` (CEF's `rt`, LEEF's `devTime`).
    MonthDayYear(u64),
    /// `2019-05-01 17:35:42` (the Splunk templates' time).
    DateTime(u64),
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Stamp::Ctime(secs)
        | Stamp::Syslog(secs)
        | Stamp::SyslogZeroDay(secs)
        | Stamp::MonthDayYear(secs)
        | Stamp::DateTime(secs)) = *self;
        let Civil {
            y,
            m,
            d,
            hh,
            mm,
            ss,
            weekday,
            mon,
        } = Civil::of(secs);
        match self {
            Stamp::Ctime(_) => write!(f, "{weekday} {mon} {d:02} {hh:02}:{mm:02}:{ss:02} {y}"),
            Stamp::Syslog(_) => write!(f, "{mon} {d:>2} {hh:02}:{mm:02}:{ss:02}"),
            Stamp::SyslogZeroDay(_) => write!(f, "{mon} {d:02} {hh:02}:{mm:02}:{ss:02}"),
            Stamp::MonthDayYear(_) => write!(f, "{mon} {d:02} {y} {hh:02}:{mm:02}:{ss:02}"),
            Stamp::DateTime(_) => write!(f, "{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}"),
        }
    }
}

/// `2019-05-30T08:20:42.230Z` (LSS's Timestamp… fields).
pub(crate) fn write_iso(out: &mut String, ms: u64) {
    let Civil {
        y,
        m,
        d,
        hh,
        mm,
        ss,
        ..
    } = Civil::of(ms / 1000);
    let _ = write!(
        out,
        "{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:03}Z",
        ms % 1000
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_ctime() {
        let mut s = String::new();
        write_iso(&mut s, 1_559_204_442_230);
        let _ = write!(s, " {}", Stamp::Ctime(1_559_324_142));
        assert_eq!(s, "2019-05-30T08:20:42.230Z Fri May 31 17:35:42 2019");
    }
}

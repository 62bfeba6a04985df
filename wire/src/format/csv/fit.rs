//! How a line's values fit an order's columns: what picks the order of a line whose field count
//! several orders have, and keeps out of an order a line that a value's delimiters gave its
//! count (see the [`csv`](super) module's documentation).

use super::lss::{self, Lead};
use super::orders::Order;
use super::Span;
use crate::keys::Field;

/// A line's values by place: the line and its fields' spans.
#[derive(Debug, Clone, Copy)]
pub(super) struct Values<'v> {
    pub(super) text: &'v str,
    pub(super) spans: &'v [Span],
}

impl<'v> Values<'v> {
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The value at place `i`; empty past the last.
    pub(super) fn get(&self, i: usize) -> &'v str {
        let span = self.spans.get(i);
        span.and_then(|s| self.text.get(s.start..s.end))
            .unwrap_or("")
    }
}

/// How a line's values fit an order ([`Order::fit`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fit {
    pub(super) misfits: usize,
    /// Misfits no value of a line in this order has: an address or a time that is none, a
    /// lead naming another log type.
    pub(super) hard: usize,
    pub(super) numbers: usize,
}

impl Fit {
    fn misfit(&mut self, hard: bool) {
        self.misfits += 1;
        self.hard += usize::from(hard);
    }
}

impl Order {
    /// How `values` fit: numeric, address and time columns whose value is something else
    /// (misfits; those of an address or a time, and a lead that names another type, also
    /// hard), and numeric ones whose value is a number rather than absent (numbers). Only the
    /// columns that can be checked are looked at: most are text, and every line of a count
    /// that one order has is checked.
    pub(super) fn fit(&self, values: Values<'_>) -> Fit {
        let mut fit = Fit::default();
        if let Some((part, repeated)) = self.repeats {
            // Two empty values repeat nothing (an empty SessionID and ConnectionID, and a
            // comma elsewhere, had the count too).
            let value = |i| values.get(i).trim_ascii();
            let part = value(part);
            fit.misfits += usize::from(part.is_empty() || part != value(repeated));
        }
        if values.len() > 0 && self.lead_misfits(values.get(0)) {
            fit.misfit(true);
        }
        for &i in &self.checked {
            if i >= values.len() {
                break;
            }
            self.check(i, values.get(i), &mut fit);
        }
        fit
    }

    /// Adds to `fit` how `v` fits the checked column `i` ([`Order::fit`]).
    #[inline(always)]
    pub(super) fn check(&self, i: usize, v: &str, fit: &mut Fit) {
        let column = &self.columns[i];
        // Most values are as their column wants, without spaces: digits and an IPv4 address
        // are never absent words, so they are answered before a trim and a look for one. (A
        // checked column that is no time, decimal or number is an address.)
        let b = v.as_bytes();
        match (column.time || column.decimal, column.numeric) {
            (false, true) if digits(b) => {
                fit.numbers += 1;
                return;
            }
            (false, false) if ipv4_shape(b) => return,
            _ => {}
        }
        let v = v.trim_ascii();
        if crate::value::is_absent(v) {
            return;
        }
        if column.time {
            if !time(v) {
                fit.misfit(true);
            }
        } else if column.decimal {
            if v.parse::<f64>().is_err() {
                fit.misfit(true);
            }
        } else if column.numeric {
            if digits(v.as_bytes()) {
                fit.numbers += 1;
            } else {
                // An epoch time that is no number is no time: the line is in another order.
                fit.misfit(column.hit.is_some_and(|h| h.field == Field::EpochTime));
            }
        } else if !ipv4_shape(v.as_bytes()) && v.parse::<std::net::IpAddr>().is_err() {
            // A ZIA address ([`Order::checked`] holds no other column).
            fit.misfit(true);
        }
    }

    /// Whether a line's first field rules this order out: it names another ZPA log type, or,
    /// for a ZIA order, any; for Audit, whose lead is static text only, it must name Audit.
    fn lead_misfits(&self, first: &str) -> bool {
        match self.label {
            Some(label) => match lss::lead(first, label) {
                Lead::Other => true,
                Lead::Untagged => self.columns.first().is_none_or(|c| c.hit.is_none()),
                Lead::Labelled(_) | Lead::Cut => false,
            },
            None => lss::tagged(first),
        }
    }
}

/// Whether `v` is one ASCII digit or more.
#[inline(always)]
pub(super) fn digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

/// Whether `v`, trimmed and not absent, is a time as an ISO 8601 template writes one: a date
/// starts `yyyy-`, and `0` is how an epoch template says "none".
pub(super) fn time(v: &str) -> bool {
    let b = v.as_bytes();
    let iso = b.len() > 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    iso || v == "0"
}

/// An IPv4 address as `Ipv4Addr` reads one (four numbers up to 255, no leading zero),
/// checked in one pass: most address columns hold one, and the full parse of an `IpAddr` cost
/// more than the rest of a line's check.
fn ipv4_shape(v: &[u8]) -> bool {
    let (mut dots, mut digits, mut n) = (0, 0, 0u32);
    for &b in v {
        match b {
            // A number's first digit, or a next one after a first that was no 0.
            b'0'..=b'9' if digits == 0 || (digits < 3 && n > 0) => {
                n = n * 10 + u32::from(b - b'0');
                digits += 1;
                if n > 255 {
                    return false;
                }
            }
            b'.' if digits > 0 && dots < 3 => (dots, digits, n) = (dots + 1, 0, 0),
            _ => return false,
        }
    }
    dots == 3 && digits > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_as_the_standard_library_reads_them() {
        for (v, shaped) in [
            ("10.0.0.1", true),
            ("255.255.255.255", true),
            ("1.2.3", false),
            ("1.2.3.4.5", false),
            ("1..2.3", false),
            ("1234.1.1.1", false),
            ("14061", false),
            ("1.2.3.4 ", false),
            ("::1", false),
            ("1.2.3.256", false),
            ("01.2.3.4", false),
            ("999.1.1.1", false),
            ("0.0.0.0", true),
            ("10.0.0.10", true),
        ] {
            assert_eq!(ipv4_shape(v.as_bytes()), shaped, "{v}");
            // The shape is what the standard library reads as an IPv4 address.
            assert_eq!(v.parse::<std::net::Ipv4Addr>().is_ok(), shaped, "{v}");
        }
        // Every joining of these groups by dots, three to five of them: the same answers.
        let groups = [
            "", "0", "00", "1", "01", "9", "10", "99", "100", "255", "256", "999", "1000",
        ];
        let mut texts: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| groups.iter().map(move |g| format!("{t}.{g}")))
                .collect();
            for t in &longer {
                let std = t.parse::<std::net::Ipv4Addr>().is_ok();
                assert_eq!(ipv4_shape(t.as_bytes()), std, "{t}");
            }
            texts = longer;
        }
    }
}

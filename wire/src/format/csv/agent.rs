//! A ZIA line whose client or server text held the delimiter. NSS writes the agent (`%s{ua}`),
//! and the content type a server sent, as they came, quoting nothing in them; so does it a URL
//! or referer where a configured order takes the unencoded one. One that holds `","` (or a tab,
//! in tab-separated output) gives the line more fields than its order has, and shifts every
//! field after it: such a line fits no order.
//!
//! It is read again up to the first such column: the fields before it are where they were, and
//! the order's checked columns among them (addresses, numbers, times: in Zscaler's web order,
//! the client and server addresses, sizes and status, all before the agent) must fit, so a
//! delimiter in one of them is still no record. Every field from that column on is left out:
//! where the extra fields end, nothing after the agent in Zscaler's orders can tell, and a
//! field read one place off would say what NSS never said. The frame is contested
//! ([`crate::fields::Fields::contested`]), so that it is kept as received too.

use super::fit::Values;
use super::orders::{Columns, Order};
use super::Span;

/// The most fields a client's text may add for its line to be read again.
pub(super) const MOST_EXTRA: usize = 64;

/// The NSS variables written as a client or a server sent them, whose text may hold a
/// delimiter.
pub(super) const RAW: [&str; 4] = ["ua", "contenttype", "url", "referer"];

/// The order a line of `spans` (more than it has) fits up to its first column of raw text;
/// `out` then holds the line's fields in that order, those from that column on empty.
pub(super) fn before_raw<'c>(
    text: &str,
    spans: &[Span],
    delimiter: u8,
    columns: &'c Columns,
    out: &mut Vec<Span>,
) -> Option<&'c Order> {
    let mut found = None;
    for order in columns.zia() {
        let count = order.columns.len();
        if spans.len() <= count {
            continue;
        }
        let Some(raw) = order.columns.iter().position(|c| c.raw) else {
            continue;
        };
        // Fields no column checks could be read anywhere.
        if !order.checked.iter().any(|&i| i < raw) {
            continue;
        }
        before(spans, raw, count, out);
        if order.fits(Values { text, spans: out }, delimiter) {
            if found.is_some() {
                // Two orders fit: the line does not say which it is in.
                return None;
            }
            found = Some((order, raw));
        }
    }
    let (order, raw) = found?;
    before(spans, raw, order.columns.len(), out);
    Some(order)
}

/// Into `out`, the first `raw` of `spans`, then empty ones up to `count`.
fn before(spans: &[Span], raw: usize, count: usize, out: &mut Vec<Span>) {
    out.clear();
    out.extend_from_slice(&spans[..raw]);
    let at = spans[raw].end;
    let empty = Span {
        start: at,
        end: at,
        escaped: false,
    };
    out.extend(std::iter::repeat_n(empty, count - raw));
}

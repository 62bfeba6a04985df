//! ZPA lines whose lists hold commas. LSS's CSV template for User Status joins a list's items
//! with commas (`%s(,){PosturesHit}`) and writes the SAML attributes as they are
//! (`myname:jdoe,myemail:jdoe@zscaler.com`), unquoted: a user who passed two posture checks
//! gets a line longer than the template, and nothing in it says which list the extra fields
//! belong to. The columns before the lists stay where they are, though: they are the line's
//! first fields. And the columns after them, which no record holds either, are its last fields
//! unless one of their values holds a comma too (a city `Washington, D.C.`).
//!
//! So a comma-separated line with more fields than such an order has, and no quote but in its
//! lists (LSS writes SAML attributes as JSON too: `{"Email":["jdoe@example.com"]}`), is read
//! again: the columns before the lists from its start, the columns after them from its end, and
//! the lists left out. A comma in a value before the lists would move every column after it,
//! the device's hostname among them: those columns must fit the order as any line's must (their
//! numbers, decimals and times), the first field must name the log type, and the column just
//! before the lists must hold what only it holds: every `ClientType` starts `zpn_client_type_`,
//! which a platform, a hostname or an IdP's name moved there does not. A value written to look
//! like the columns after it (a username `a,…,zpn_client_type_zapp`) would put its own there:
//! the line must hold one field that starts so, no more, and one that starts as SessionStatus
//! does (`ZPN_STATUS_`), in its place (a username comes before it, and LSS writes a status in
//! every line, so such a line has two, where it may have no client type of its own). Else it
//! stays a `field_count` dead letter. Nothing is allocated: the reader's spans are refilled.

use std::ops::Range;

use super::fit::Values;
use super::lss;
use super::orders::{Columns, ListRun, Order};
use super::Span;
use crate::format::find_byte;

/// The order of `columns` with lists that the line `text` is in, read as above, with `spans`
/// refilled with its columns; none when no such order takes it.
pub(super) fn reread<'c>(
    text: &str,
    d: u8,
    columns: &'c Columns,
    spans: &mut Vec<Span>,
) -> Option<&'c Order> {
    let b = text.as_bytes();
    // Tabs separate no list.
    if d != b',' {
        return None;
    }
    let count = memchr::memchr_iter(b',', b).count() + 1;
    columns.with_lists(count).find(|order| {
        order.lists.is_some_and(|run| {
            let Some(lists) = split(b, order, run, spans) else {
                return false;
            };
            // A quote may join fields by CSV's rule (the line was read so already): only the
            // lists, which are left out, may hold one (SAML attributes as JSON,
            // `{"Email":["…"]}`, as LSS writes them).
            let quote = |part: &[u8]| part.contains(&b'"');
            !quote(&b[..lists.start]) && !quote(&b[lists.end..]) && {
                // The columns after the lists hold nothing a record does: not checked.
                let before = Values {
                    text,
                    spans: &spans[..run.first],
                };
                order.fit(before).misfits == 0 && anchored(order, run, before, b)
            }
        })
    })
}

/// Refills `spans` with the columns of `order`: those before `run` from the start of `b`, those
/// after it from its end, and the lists empty; the bytes of `b` that the lists hold. None when
/// the line has too few fields for it (never from [`reread`], whose lines have more fields than
/// the order).
fn split(b: &[u8], order: &Order, run: ListRun, spans: &mut Vec<Span>) -> Option<Range<usize>> {
    spans.clear();
    let mut start = 0;
    for _ in 0..run.first {
        let comma = find_byte(b, start, b',')?;
        spans.push(Span::plain(start, comma));
        start = comma + 1;
    }
    spans.extend((run.first..=run.last).map(|_| Span::plain(start, start)));
    // The columns after the lists, last first, then put in order.
    let after = spans.len();
    let mut end = b.len();
    for _ in run.last + 1..order.columns.len() {
        match memchr::memrchr(b',', &b[start..end]) {
            Some(at) => {
                spans.push(Span::plain(start + at + 1, end));
                end = start + at;
            }
            None => return None,
        }
    }
    spans[after..].reverse();
    Some(start..end)
}

/// Whether the line's first field names the order's log type (its tag after the label, or
/// after the label's last word where a syslog header reader took the rest), and each anchor
/// column holds what that column's values start with, as no other field of the line `b` does.
fn anchored(order: &Order, run: ListRun, values: Values<'_>, b: &[u8]) -> bool {
    let labelled = order
        .label
        .is_some_and(|label| lss::names(values.get(0), label));
    let once = |prefix: &str| {
        let fields = b.split(|&c| c == b',');
        fields.filter(|f| f.starts_with(prefix.as_bytes())).count() == 1
    };
    let mut anchors = (order.columns[..run.first].iter().enumerate())
        .filter_map(|(at, column)| Some((at, column.starts?)))
        .peekable();
    let fits = |(at, prefix): (usize, &str)| values.get(at).starts_with(prefix) && once(prefix);
    labelled && anchors.peek().is_some() && anchors.all(fits)
}

//! ZPA lines whose text values hold commas. LSS's CSV templates write `%s` values as they are,
//! unquoted: a customer `Acme, Inc.` (the tenant of Splunk's ZPA samples), a username `Doe,
//! John` or a city `Washington, D.C.` gives a line more fields than its template has, and every
//! line of such a tenant was a `field_count` dead letter.
//!
//! The extra fields each belong to some text value, and the line alone does not say which in
//! general. But a template's other columns hold values that never hold a comma and whose shape
//! is known: the lead (a time and the log type's label), `%d` digits, `%f` decimals, ISO times,
//! ZPA's ids (SessionID, and ConnectionID, which repeats it, or is empty in the order that reads
//! it as one field), and the values that start with a code of ZPA's (`ZPN_STATUS_…`,
//! `zpn_client_type_…`: [`Column`](super::orders::Column)'s `starts`). Each way of giving the
//! extra fields to text columns puts those columns at other fields; a reading fits when each of
//! them holds what it must there.
//!
//! The line as LSS wrote it is one reading that fits. So when exactly one fits, it is that line,
//! and it is read so. A value written to look like other columns can only add readings that fit,
//! and with two the line stays a dead letter, as it does where two text columns meet with
//! nothing between them to tell which one held the comma (a User Status line's customer and
//! username, a User Activity line's policy and connector). Readings are counted, not listed: by
//! column and by how many extra fields the columns before it took, up to [`MOST`], in a table
//! on the stack, for each template whose log type the first field names. When one of those has
//! more than [`MOST`] fields too few, its reading is not counted and the line is not read:
//! another template's reading alone would prove nothing. Lines with a quote (CSV's rule and
//! [`Quoting`](super::cells::Quoting) read those; Browser Access' `%j` agent always has
//! them) or tabs are not concerned.

use super::fit::{self, Fit, Values};
use super::lss;
use super::orders::{Columns, Order};
use super::Span;

/// The most fields a line read so may have beyond the count of each order its label names
/// (User Activity's 69 columns; its form that reads ConnectionID as two fields has 70).
pub(super) const MOST: usize = 8;

/// More than the columns of any LSS template (User Activity's 69, and ConnectionID's second
/// field in its comma-separated form).
const PLACES: usize = 72;

/// The most fields of a line that is read so.
pub(super) const FIELDS: usize = PLACES + MOST + 1;

/// How many readings fit, counted up to two: one is all that matters.
type Count = u8;

/// The order of `columns` that the comma-separated line `text` is in, read as above, with `out`
/// refilled with its columns' spans; none when no order, or more than one reading, fits.
/// `fields` is scratch for the line's fields.
pub(super) fn reread<'c>(
    text: &str,
    d: u8,
    columns: &'c Columns,
    fields: &mut Vec<Span>,
    out: &mut Vec<Span>,
) -> Option<&'c Order> {
    let b = text.as_bytes();
    if d != b',' || b.contains(&b'"') {
        return None;
    }
    fields.clear();
    let mut start = 0;
    for comma in memchr::memchr_iter(b',', b) {
        if fields.len() + 1 == FIELDS {
            return None;
        }
        fields.push(Span::plain(start, comma));
        start = comma + 1;
    }
    fields.push(Span::plain(start, b.len()));
    let values = Values {
        text,
        spans: fields,
    };
    let mut table = [[0; MOST + 1]; PLACES + 1];
    let mut found = None;
    let mut readings = 0;
    for order in columns.named_by(values.get(0)) {
        if order.columns.len() + MOST < values.len() {
            // This log type's reading, if it is the line's, is not counted: another's alone
            // would prove nothing (`Status zpa-lss:` names User and Connector Status both).
            return None;
        }
        let n = count(order, values, &mut table);
        readings += n;
        if n == 1 {
            found = Some(order);
            out.clear();
            read(order, values, &table, out)?;
        }
    }
    let order = found.filter(|_| readings == 1)?;
    // As any line read again: its values fit the order (the count above checked each).
    let read = Values { text, spans: out };
    order.fits(read, d).then_some(order)
}

/// Fills `table` with the readings of `values` in `order` from each column on, by the extra
/// fields the columns before it took, and returns how many there are of the whole line.
fn count(order: &Order, values: Values<'_>, table: &mut [[Count; MOST + 1]; PLACES + 1]) -> Count {
    let n = order.columns.len();
    let Some(extra) = values
        .len()
        .checked_sub(n)
        .filter(|&e| e <= MOST && n < PLACES)
    else {
        return 0;
    };
    for (s, cell) in table[n].iter_mut().enumerate() {
        *cell = Count::from(s == extra);
    }
    for c in (0..n).rev() {
        let (this, next) = table.split_at_mut(c + 1);
        let (this, next) = (&mut this[c], &next[0]);
        if order.columns[c].commas {
            // Its value runs over one field or more: the readings of each place the next
            // column may start at.
            let mut sum: Count = 0;
            for s in (0..=extra).rev() {
                sum = sum.saturating_add(next[s]).min(2);
                this[s] = sum;
            }
        } else {
            for s in 0..=extra {
                this[s] = if fits(order, values, c, s) {
                    next[s]
                } else {
                    0
                };
            }
        }
    }
    table[0][0]
}

/// Whether the field that column `c` of `order` takes, after `s` extra fields, holds what the
/// column holds. A column that is no text takes one field.
fn fits(order: &Order, values: Values<'_>, c: usize, s: usize) -> bool {
    let column = &order.columns[c];
    let v = values.get(c + s);
    if c == 0 {
        return order.label.is_some_and(|label| lss::names(v, label));
    }
    if column.empty_in_csv {
        return v.is_empty();
    }
    if let Some(prefix) = column.starts {
        return v.is_empty() || v.starts_with(prefix);
    }
    // ConnectionID's first part repeats SessionID, the column just before it: both ids, so
    // both at the same shift.
    if let Some((part, repeated)) = order.repeats.filter(|&(part, _)| part == c) {
        debug_assert_eq!(repeated + 1, part);
        let v = v.trim_ascii();
        return !v.is_empty() && v == values.get(repeated + s).trim_ascii();
    }
    // What a genuine value may be, no more strictly: a check that refused one would leave out
    // the line as written, and a unique reading would prove nothing. (The reading found must
    // still fit the order as any line's must: a `-1` in a `%d` column does not.)
    let t = v.trim_ascii();
    if column.iso {
        return crate::value::is_absent(t) || fit::time(t);
    }
    if column.numeric
        && t.strip_prefix('-')
            .is_some_and(|n| fit::digits(n.as_bytes()))
    {
        return true;
    }
    let mut fit = Fit::default();
    if order.checked.binary_search(&c).is_ok() {
        order.check(c, v, &mut fit);
    }
    fit.misfits == 0
}

/// Fills `out` with the spans of the one reading that `table` counted: each text column runs
/// on to where the next column's readings are.
fn read(
    order: &Order,
    values: Values<'_>,
    table: &[[Count; MOST + 1]; PLACES + 1],
    out: &mut Vec<Span>,
) -> Option<()> {
    let n = order.columns.len();
    let extra = values.len().checked_sub(n)?;
    let mut s = 0;
    for c in 0..n {
        let first = values.spans.get(c + s)?;
        if order.columns[c].commas {
            s = (s..=extra).find(|&t| table[c + 1][t] > 0)?;
        }
        let last = values.spans.get(c + s)?;
        out.push(Span::plain(first.start, last.end));
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reading of `text` in `order` that fits, listed one by one: each text column takes
    /// one field or more, each other column one field, which [`fits`] it.
    fn listed(order: &Order, text: &str, fields: &[Span]) -> Vec<Vec<String>> {
        fn walk(
            order: &Order,
            values: Values<'_>,
            (c, s): (usize, usize),
            taken: &mut Vec<String>,
            out: &mut Vec<Vec<String>>,
        ) {
            let (n, extra) = (order.columns.len(), values.len() - order.columns.len());
            if c == n {
                if s == extra {
                    out.push(taken.clone());
                }
                return;
            }
            let widths = match order.columns[c].commas {
                true => 1..=extra - s + 1,
                false if fits(order, values, c, s) => 1..=1,
                false => return,
            };
            for w in widths {
                let joined: Vec<&str> = (c + s..c + s + w).map(|i| values.get(i)).collect();
                taken.push(joined.join(","));
                walk(order, values, (c + 1, s + w - 1), taken, out);
                taken.pop();
            }
        }
        let values = Values {
            text,
            spans: fields,
        };
        let mut out = Vec::new();
        // Past the count's window a line is read in no order: not listed (there are many).
        let n = order.columns.len();
        if (n..=n + MOST).contains(&values.len()) {
            walk(order, values, (0, 0), &mut Vec::new(), &mut out);
        }
        out
    }

    /// The fields of `text` at its commas.
    fn split(text: &str) -> Vec<Span> {
        let mut start = 0;
        let mut fields = Vec::new();
        for part in text.split(',') {
            fields.push(Span::plain(start, start + part.len()));
            start += part.len() + 1;
        }
        fields
    }

    /// What [`reread`] reads of `text`: its order's kind and its columns' values.
    fn read_again(text: &str, columns: &Columns) -> Option<(crate::kind::Kind, Vec<String>)> {
        let (mut fields, mut out) = (Vec::new(), Vec::new());
        let order = reread(text, b',', columns, &mut fields, &mut out)?;
        let values = Values { text, spans: &out };
        Some((
            order.kind,
            (0..out.len()).map(|i| values.get(i).to_string()).collect(),
        ))
    }

    /// Whether `reading`, the values of a line by column, fits `order` as a line's must.
    fn fits_as_read(order: &Order, reading: &[String]) -> bool {
        let text = reading.concat();
        let mut spans = Vec::new();
        let mut start = 0;
        for value in reading {
            spans.push(Span::plain(start, start + value.len()));
            start += value.len();
        }
        order.fits(
            Values {
                text: &text,
                spans: &spans,
            },
            b',',
        )
    }

    /// A value that LSS may write in the fixed column `c` of `order`, shape `k` of a few (a
    /// number, a negative one, nothing, an absent word…); none for a text column, an id or
    /// the lead.
    fn genuine(order: &Order, c: usize, k: usize) -> Option<String> {
        let column = &order.columns[c];
        let shapes: &[&str] = if column.numeric {
            &["6", "-1", "", "None"]
        } else if column.decimal {
            &["45.000000", "-84.000000", ""]
        } else if column.iso || column.time {
            &["2019-05-30T08:20:42.230Z", "", "0", "None"]
        } else {
            return column
                .starts
                .map(|prefix| [format!("{prefix}Y"), String::new()][k % 2].clone());
        };
        Some(shapes[k % shapes.len()].to_string())
    }

    /// A line of `order` whose values are as its columns want them, each text value `t<place>`.
    fn line(order: &Order) -> Vec<String> {
        let columns = order.columns.iter().enumerate();
        columns
            .map(|(i, c)| match (i, order.label) {
                (0, Some(label)) => format!("Fri May 31 17:35:42 2019 {label} zpa-lss: "),
                _ if order.repeats.is_some_and(|(part, of)| i == part || i == of) => "Sq+Z".into(),
                _ if c.numeric => "6".into(),
                _ if c.decimal => "45.000000".into(),
                _ if c.time || c.iso => "2019-05-30T08:20:42.230Z".into(),
                _ if c.empty_in_csv => String::new(),
                _ => match c.starts {
                    Some(prefix) => format!("{prefix}X"),
                    None => format!("t{i}"),
                },
            })
            .collect()
    }

    #[test]
    fn a_value_written_to_look_like_the_columns_after_it_makes_more_than_one_reading() {
        let columns = Columns::default();
        let activity = columns.lss_in_csv().find(|o| o.repeats.is_some());
        let activity = activity.expect("User Activity's comma-separated order");
        let mut fields = line(activity);
        let username = 9; // After the lead, the customer, the ids, reason, status and numbers.
        assert_eq!(fields[username], "t9");
        // The forged port and address fit where the user's own do, the comma then given to an
        // address after them: more than one reading.
        for (name, one) in [
            ("Doe, John", true),
            ("eve,8443", false),
            ("eve,8443,10.0.0.1", false),
        ] {
            fields[username] = name.into();
            let text = fields.join(",");
            let listed = listed(activity, &text, &split(&text));
            assert_eq!(listed.len() == 1, one, "{name}: {listed:?}");
            assert!(!listed.is_empty(), "{name}: the line as written fits");
            let read = read_again(&text, &columns);
            assert_eq!(read.is_some(), one, "{name}");
            if let Some((_, values)) = read {
                assert_eq!(values, listed[0]);
                assert_eq!(values[username], name);
            }
        }
        // The customer's comma, with the username's: each between columns that tell.
        fields[1] = "Acme, Inc.".into();
        fields[username] = "Doe, John".into();
        let read = read_again(&fields.join(","), &columns);
        assert_eq!(read.map(|(_, values)| values), Some(fields));
    }

    proptest::proptest! {
        #[test]
        fn the_count_is_the_readings_listed(
            which in 0usize..8,
            changes in proptest::collection::vec((0usize..80, 0usize..16), 1..4),
        ) {
            let columns = Columns::default();
            let orders: Vec<&Order> = columns.lss_in_csv().collect();
            let order = orders[which % orders.len()];
            let mut fields = line(order);
            // Values with commas, and values that fit the checked columns elsewhere.
            let values = [
                "a,b", "a,b,c", ",", "", "8443", "-1", "45.5", "2019-05-30T08:20:42.230Z",
                "ZPN_STATUS_AUTHENTICATED", "zpn_client_type_zapp", "Sq+Z", "x,Sq+Z", "6,6",
                "a,b,c,d,e",
            ];
            for (at, value) in changes {
                let at = 1 + at % (fields.len() - 1);
                fields[at] = values[value % values.len()].into();
            }
            let text = fields.join(",");
            let spans = split(&text);
            let named: Vec<&Order> = columns.named_by(&fields[0]).collect();
            let listed: Vec<(&Order, Vec<String>)> = named
                .iter()
                .flat_map(|&o| listed(o, &text, &spans).into_iter().map(move |r| (o, r)))
                .collect();
            let read = read_again(&text, &columns);
            let narrow = named.iter().any(|o| o.columns.len() + MOST < spans.len());
            match listed.as_slice() {
                // Read when it still fits its order as a line's must (`-1` does not).
                [(order, one)] if !narrow && fits_as_read(order, one) => {
                    let want = (order.kind, one.clone());
                    proptest::prop_assert_eq!(read, Some(want), "{}", text);
                }
                _ => proptest::prop_assert!(read.is_none(), "{} {:?}", text, listed),
            }
        }

        #[test]
        fn a_line_as_written_is_read_so_or_not_at_all(
            which in 0usize..8,
            cut in proptest::bool::ANY,
            changes in proptest::collection::vec((0usize..80, 0usize..17), 1..5),
            shapes in proptest::collection::vec((0usize..80, 0usize..4), 0..6),
        ) {
            // A genuine line: its text values changed to values with commas or shaped like
            // other columns', its fixed ones to other shapes LSS writes (nothing, `-1`, `0`);
            // its lead whole or cut by a header reader.
            let columns = Columns::default();
            let orders: Vec<&Order> = columns.lss_in_csv().collect();
            let order = orders[which % orders.len()];
            let mut fields = line(order);
            if cut {
                let label = order.label.unwrap_or_default();
                let last = label.rsplit(' ').next().unwrap_or_default();
                fields[0] = format!("{last} zpa-lss: ");
            }
            let values = [
                "a,b", "Acme, Inc.", ",", "", "8443", "6,6", "-1", "45.5", "1,2.5",
                "2019-05-30T08:20:42.230Z", "x,2019-05-30T08:20:42.230Z",
                "ZPN_STATUS_AUTHENTICATED", "a,ZPN_STATUS_X", "zpn_client_type_zapp",
                "Sq+Z", "x,Sq+Z", "a,b,c,d,e",
            ];
            for (at, k) in shapes {
                let at = 1 + at % (fields.len() - 1);
                if let Some(value) = genuine(order, at, k) {
                    fields[at] = value;
                }
            }
            let text_columns: Vec<usize> =
                (0..fields.len()).filter(|&i| order.columns[i].commas).collect();
            for (at, value) in changes {
                let at = text_columns[at % text_columns.len()];
                fields[at] = values[value % values.len()].into();
            }
            let text = fields.join(",");
            // The line as written fits: each fixed column holds what the count asks of it.
            let spans = split(&text);
            let values = Values { text: &text, spans: &spans };
            let mut shift = 0;
            for (c, field) in fields.iter().enumerate() {
                if !order.columns[c].commas {
                    proptest::prop_assert!(fits(order, values, c, shift), "{} at {}", text, c);
                }
                shift += field.matches(',').count();
            }
            if let Some((kind, read)) = read_again(&text, &columns) {
                proptest::prop_assert_eq!(kind, order.kind, "{}", text);
                proptest::prop_assert_eq!(&read, &fields, "{}", text);
            }
        }
    }
}

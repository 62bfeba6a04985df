//! Positional feeds: the NSS default output (every field quoted, comma-separated) and
//! tab-separated values, whose fields are named by their place in a field order: the one
//! `[formats]` gives, else Zscaler's documented default for the log type.
//!
//! **Fields.** The delimiter is decided per frame: a comma when `","` comes before the first tab,
//! else a tab when there is one, else a comma. A field that starts with `"` is quoted: it ends at
//! the first `"` that the delimiter or the end of the frame follows, and inside it `""` is one
//! quote. NSS without a Feed Escape Character writes values as they are, so quoted fields hold bare
//! quotes (`"{"status":"pending"}"`, Zscaler's own Admin Audit example): a quote followed by
//! anything else stays in the value. A value that holds a quote followed by the delimiter
//! (`"{"a":"x","b":1}"`) cannot be told from two fields; it makes the frame's field count wrong,
//! so it usually becomes a dead letter (`field_count`) rather than a wrong record. A quoted field
//! with no such closing quote is `field_count` too. Other fields run to the next delimiter.
//!
//! **Log type.** A frame's field count picks the order, and so the log type, which the reader
//! states as the frame's `sourcetype`. Zscaler's defaults (the "NSS Feed Output Format" pages'
//! examples, checked against the Splunk/Sekoia templates that name the same fields in the same
//! order): web 34 fields, firewall 36, DNS 19, tunnel 14 (the Tunnel Samples record), admin audit
//! 14, SaaS Security 19, SaaS Security Activity 6. When several orders have the frame's count
//! (DNS and SaaS Security, tunnel and audit, or a configured order and a default), the values
//! decide: the order with the fewest numeric columns (record ids, ports, sizes, durations) that
//! hold something other than digits or an absent word wins. SaaS Security's second field is its
//! numeric record id where DNS has the login; audit's second is its record id where tunnel has
//! its record type. A tie goes to a configured order, then to the order that reads more values
//! as numbers (a SaaS Security row whose record id is its only number besides the times, its
//! threat and policy "None", fits DNS's order too), then to the first in the order web,
//! firewall, DNS, tunnel, audit, SaaS Security, SaaS Security Activity. A frame that fits none of
//! them is in none (`field_count`), as a ZPA audit line stripped of its `Audit zpa-lss: ` is.
//!
//! **ZPA.** LSS's CSV and TSV templates are read too, in the default order of each ZPA log
//! type ([`lss`]: where the orders come from, and how their first field, `%s{LogTimestamp:time}
//! User Activity zpa-lss: `, is read). A first field that names one ZPA log type fits no other
//! order, ZIA's included. ZPA's counts (69, 33, 37, 37, 15) are ZIA's plus or minus one, so a
//! ZPA order is taken only when the values fit it, even when it is the only one of the count:
//! its ISO 8601 times (connection start and end, authentication, audit times) must be dates,
//! and Audit's first field must name it. Browser Access and App Connector Status have the same
//! count: the label tells them apart, else the values (App Connector Status has numbers where
//! Browser Access has its method and protocol). The tabs that end a line are its last, empty
//! fields ([`crate::decode`] keeps them).

mod lss;

use std::cmp::Reverse;

use crate::event::Kind;
use crate::fields::{Fields, Scalar};
use crate::keys::{self, nss, Field, Hit};
use crate::reason::Reason;
use lss::Lead;

/// Zscaler's default output format of each ZIA log type, as NSS variable names.
#[rustfmt::skip]
const DEFAULTS: [(Kind, &[&str]); 7] = [
    (Kind::ZiaWeb, &[
        "time", "login", "proto", "eurl", "action", "appname", "appclass", "reqsize", "respsize",
        "stime", "ctime", "urlclass", "urlsupercat", "urlcat", "malwarecat", "threatname",
        "riskscore", "dlpeng", "dlpdict", "location", "dept", "cip", "sip", "reqmethod",
        "respcode", "ua", "ereferer", "ruletype", "rulelabel", "contenttype", "unscannabletype",
        "deviceowner", "devicehostname", "keyprotectiontype",
    ]),
    (Kind::ZiaFirewall, &[
        "time", "login", "dept", "location", "cdport", "csport", "sdport", "ssport", "csip",
        "cdip", "ssip", "sdip", "tsip", "tsport", "ttype", "action", "dnat", "stateful",
        "aggregate", "nwsvc", "nwapp", "ipproto", "ipcat", "destcountry", "avgduration",
        "rulelabel", "inbytes", "outbytes", "duration", "durationms", "numsessions",
        "ipsrulelabel", "threatcat", "threatname", "deviceowner", "devicehostname",
    ]),
    (Kind::ZiaDns, &[
        "time", "login", "dept", "location", "reqaction", "resaction", "reqrulelabel",
        "resrulelabel", "reqtype", "req", "res", "sport", "durationms", "cip", "sip", "domcat",
        "respipcat", "deviceowner", "devicehostname",
    ]),
    // The sample's four counters read "2","3","160","753": packets before bytes (never fewer
    // bytes than packets); transmitted before received, as the field table lists them.
    (Kind::ZiaTunnel, &[
        "datetime", "tunnelactionname", "tunneltype", "vpncredentialname", "locationname",
        "sourceip", "destvip", "srcport", "txpackets", "rxpackets", "txbytes", "rxbytes",
        "dpdrec", "recordid",
    ]),
    (Kind::ZiaAudit, &[
        "time", "recordid", "action", "category", "subcategory", "resource", "interface",
        "adminid", "clientip", "result", "errorcode", "auditlogtype", "preaction", "postaction",
    ]),
    (Kind::ZiaSaas, &[
        "time", "recordid", "company", "tenant", "user", "department", "applicationname",
        "filename", "filesource", "filemd5", "threatname", "policy", "dlpdictnames",
        "dlpdictcount", "dlpenginenames", "fullurl", "lastmodtime", "filescantimems",
        "filedownloadtimems",
    ]),
    (Kind::ZiaSaasActivity, &[
        "username", "tenant", "objtype1", "appname", "objnames1", "objnames2",
    ]),
];

/// The `sourcetype` a frame of `kind` states, as the JSON templates spell it; none for ZPA,
/// whose JSON has none either (the reader states its type as its product).
fn sourcetype(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::ZiaWeb => "zscalernss-web",
        Kind::ZiaFirewall => "zscalernss-fw",
        Kind::ZiaDns => "zscalernss-dns",
        Kind::ZiaTunnel => "zscalernss-tunnel",
        Kind::ZiaAudit => "zscalernss-audit",
        Kind::ZiaSaas => "zscalernss-saas_security",
        Kind::ZiaSaasActivity => "zscalernss-saas_security_activity",
        _ => return None,
    })
}

/// Slots whose values are digits: what tells two orders of one field count apart.
fn numeric(field: Field) -> bool {
    use Field::*;
    matches!(
        field,
        EpochTime
            | RecordId
            | ClientPort
            | ServerPort
            | NatPort
            | BytesOut
            | BytesIn
            | DurationMs
            | DurationSecs
            | RiskScore
            | RespCode
            | IsTcp
            | Lifetime
            | LifeBytes
            | SrcPortStart
            | DstPortStart
            | PacketsIn
            | PacketsOut
            | ScanTimeMs
            | DownloadTimeMs
            // App Connector Status: where Browser Access, of the same field count, has its
            // method and protocol, and more numbers than Browser Access has at its places.
            | CpuUtilization
            | MemUtilization
            | ServiceCount
            | TotalBytesRx
            | TotalBytesTx
    )
}

/// ZPA's times that its default templates write in ISO 8601 (`%s{…:iso8601}`): what keeps a
/// ZIA line one field short or long out of a ZPA order of its count.
fn iso_time(field: Field) -> bool {
    use Field::*;
    matches!(
        field,
        ConnStart
            | ConnEnd
            | AuthenticatedAt
            | UnauthenticatedAt
            | RequestReceived
            | ModifiedTime
            | CreationTime
    )
}

/// One column of an order: what its key fills (nothing for a variable no record uses).
#[derive(Debug, Clone, Copy)]
struct Column {
    hit: Option<Hit>,
    numeric: bool,
    /// An ISO 8601 time ([`iso_time`]).
    time: bool,
    /// The field is the rest of the column before it, whose value LSS writes with a comma.
    joins: bool,
}

#[derive(Debug, Clone)]
struct Order {
    kind: Kind,
    configured: bool,
    columns: Vec<Column>,
    /// A ZPA template's label, which its first field names ([`lss`]).
    label: Option<&'static str>,
    /// The only delimiter this order is for, if it is for one.
    delimiter: Option<u8>,
}

impl Order {
    fn new(kind: Kind, names: &[&str], configured: bool) -> Order {
        let columns = names
            .iter()
            .map(|name| {
                let hit = keys::lookup(name);
                Column {
                    hit,
                    numeric: hit.is_some_and(|h| numeric(h.field)),
                    time: hit.is_some_and(|h| iso_time(h.field)),
                    joins: false,
                }
            })
            .collect();
        Order {
            kind,
            configured,
            columns,
            label: None,
            delimiter: None,
        }
    }

    /// A ZPA template's order; `split`, its comma-separated form in which the value that always
    /// holds a comma is two fields.
    fn lss(template: &lss::Template, split: bool) -> Order {
        let mut order = Order::new(template.kind, template.names, false);
        order.label = Some(template.label);
        let at = template
            .comma
            .filter(|_| split)
            .and_then(|name| template.names.iter().position(|n| n == &name));
        if let Some(at) = at {
            let rest = Column {
                hit: None,
                numeric: false,
                time: false,
                joins: true,
            };
            order.columns.insert(at + 1, rest);
            order.delimiter = Some(b',');
        }
        order
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

    /// How `values` fit: numeric columns whose value is something else (misfits), and those
    /// whose value is a number rather than absent (fits).
    fn fit<'v>(&self, values: impl Iterator<Item = &'v str>) -> Fit {
        let mut fit = Fit::default();
        for (i, (column, v)) in self.columns.iter().zip(values).enumerate() {
            if i == 0 && self.lead_misfits(v) {
                fit.misfits += 1;
            }
            let v = v.trim_ascii();
            if crate::value::is_absent(v) {
                continue;
            }
            if column.time {
                // `0` is how an epoch template says "none"; a date starts `yyyy-`.
                let b = v.as_bytes();
                let iso = b.len() > 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
                fit.misfits += usize::from(!iso && v != "0");
                continue;
            }
            if !column.numeric {
                continue;
            }
            if v.bytes().all(|c| c.is_ascii_digit()) {
                fit.numbers += 1;
            } else {
                fit.misfits += 1;
            }
        }
        fit
    }
}

/// How a frame's values fit an order ([`Order::fit`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Fit {
    misfits: usize,
    numbers: usize,
}

/// The field orders of positional feeds, by log type.
#[derive(Debug, Clone)]
pub struct Columns {
    /// One per ZIA log type, in [`DEFAULTS`]' order, then the ZPA ones ([`lss::TEMPLATES`]).
    orders: Vec<Order>,
    /// The most columns of any order: a frame with more is refused before it is all read.
    widest: usize,
}

impl Default for Columns {
    fn default() -> Self {
        let zia = DEFAULTS
            .iter()
            .map(|(kind, names)| Order::new(*kind, names, false));
        let zpa = lss::TEMPLATES.iter().flat_map(|t| {
            let split = t.comma.map(|_| Order::lss(t, true));
            std::iter::once(Order::lss(t, false)).chain(split)
        });
        let orders: Vec<Order> = zia.chain(zpa).collect();
        let widest = orders.iter().map(|o| o.columns.len()).max().unwrap_or(0);
        Columns { orders, widest }
    }
}

impl Columns {
    /// Replaces the order of `kind` with `names`: the NSS variable names of the feed's template
    /// in order (`%s{login}` is `login`; written so, it is read so too). An error names a name
    /// that is not one. No names restores Zscaler's default.
    pub fn set(&mut self, kind: Kind, names: &[String]) -> Result<(), String> {
        // ZPA templates name LSS fields, not NSS variables: their orders are the defaults.
        let at = self.orders.iter().position(|o| o.kind == kind);
        let Some(at) = at.filter(|_| !kind.is_zpa()) else {
            return Err(format!(
                "{} logs have no configurable positional format",
                kind.as_str()
            ));
        };
        let names: Vec<&str> = names.iter().map(|n| variable(n)).collect();
        if let Some(bad) = names.iter().find(|n| !nss::is_variable(n)) {
            return Err(format!(
                "{bad:?} is not an NSS variable name (as in %s{{login}}: login)"
            ));
        }
        self.orders[at] = if names.is_empty() {
            Order::new(kind, DEFAULTS[at].1, false)
        } else {
            Order::new(kind, &names, true)
        };
        self.widest = self
            .orders
            .iter()
            .map(|o| o.columns.len())
            .max()
            .unwrap_or(0);
        Ok(())
    }

    /// The order for a frame of `values` separated by `delimiter`, if one has their count (and,
    /// of several, one fits).
    fn pick<'v>(
        &self,
        values: impl Iterator<Item = &'v str> + Clone,
        delimiter: u8,
    ) -> Option<&Order> {
        let count = values.clone().count();
        let mut fitting = self
            .orders
            .iter()
            .filter(|o| o.columns.len() == count && o.delimiter.is_none_or(|d| d == delimiter));
        let first = fitting.next()?;
        // A ZPA order must fit even alone: its field counts are a ZIA order's plus or minus one.
        if fitting.clone().next().is_none() && first.label.is_none() {
            let lead = values.clone().next().unwrap_or("");
            return (!first.lead_misfits(lead)).then_some(first);
        }
        // Fewest misfits; of as few, a configured order over a default one; then the order
        // that reads more of the values as numbers. Absent values ("None") fit every column, so
        // a SaaS Security row with no threat or policy fits DNS's order as well as its own, and
        // only its record id and times (numbers where DNS has a login and text) tell it.
        let rank = |order: &Order, fit: Fit| (fit.misfits, !order.configured, Reverse(fit.numbers));
        let mut best = (first, first.fit(values.clone()));
        for order in fitting {
            let fit = order.fit(values.clone());
            if rank(order, fit) < rank(best.0, best.1) {
                best = (order, fit);
            }
        }
        (best.1.misfits == 0).then_some(best.0)
    }
}

/// `login` of `%s{login}`, `%02d{hh}`, or `login` itself.
fn variable(name: &str) -> &str {
    let name = name.trim();
    match (name.find('{'), name.strip_suffix('}')) {
        (Some(open), Some(inner)) if name.starts_with('%') => &inner[open + 1..],
        _ => name,
    }
}

/// One field as written: its text without its quotes, `""` still doubled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    pub text: &'a str,
    /// Quoted, with a `""` inside: [`Cell::unescaped`] differs from `text`.
    pub escaped: bool,
}

impl Cell<'_> {
    /// The value as meant: each `""` of a quoted field one quote.
    pub fn unescaped(&self) -> std::borrow::Cow<'_, str> {
        if self.escaped {
            self.text.replace("\"\"", "\"").into()
        } else {
            self.text.into()
        }
    }
}

/// The fields of a frame, in order; an `Err` (`FieldCount`) for a quote that never closes, after
/// which there are none.
#[derive(Debug, Clone)]
pub struct Cells<'a> {
    text: &'a str,
    delimiter: u8,
    /// Where the next field starts; `None` after the last.
    next: Option<usize>,
}

/// Reads `text` as delimited fields (see the module's documentation).
pub fn fields(text: &str) -> Cells<'_> {
    Cells {
        text,
        delimiter: delimiter(text.as_bytes()),
        next: Some(0),
    }
}

impl Cells<'_> {
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }
}

/// A comma when `","` comes before the first tab, else a tab when there is one, else a comma.
pub(crate) fn delimiter(b: &[u8]) -> u8 {
    let quoted = memchr::memmem::find(b, b"\",\"").unwrap_or(b.len());
    match memchr::memchr(b'\t', &b[..quoted]) {
        Some(_) => b'\t',
        None => b',',
    }
}

impl<'a> Iterator for Cells<'a> {
    type Item = Result<Cell<'a>, Reason>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next.take()?;
        let cell = match scan(self.text.as_bytes(), start, self.delimiter) {
            Ok(cell) => cell,
            Err(reason) => return Some(Err(reason)),
        };
        self.next = cell.next;
        Some(Ok(Cell {
            text: &self.text[cell.start..cell.end],
            escaped: cell.escaped,
        }))
    }
}

/// One field as [`scan`] finds it.
#[derive(Debug, Clone, Copy)]
struct Scanned {
    /// Its text, without quotes.
    start: usize,
    end: usize,
    /// Quoted, with a `""`.
    escaped: bool,
    /// A quote inside its text (a bare one or a `""`).
    quotes: bool,
    /// Where the next field starts, if one does.
    next: Option<usize>,
}

/// The field that starts at `start`.
fn scan(b: &[u8], start: usize, d: u8) -> Result<Scanned, Reason> {
    let (text, escaped, quotes, after) = if b.get(start) == Some(&b'"') {
        let (mut escaped, mut quotes) = (false, false);
        let mut at = start + 1;
        let close = loop {
            let quote = super::find_byte(b, at, b'"').ok_or(Reason::FieldCount)?;
            match b.get(quote + 1) {
                None => break quote,
                Some(&c) if c == d => break quote,
                Some(b'"') => {
                    escaped = true;
                    at = quote + 2;
                }
                Some(_) => at = quote + 1,
            }
            quotes = true;
        };
        (start + 1..close, escaped, quotes, close + 1)
    } else {
        let end = super::find_byte(b, start, d).unwrap_or(b.len());
        let quotes = memchr::memchr(b'"', &b[start..end]).is_some();
        (start..end, false, quotes, end)
    };
    Ok(Scanned {
        start: text.start,
        end: text.end,
        escaped,
        quotes,
        // A delimiter at `after`: a field follows, if only an empty one.
        next: (after < b.len()).then_some(after + 1),
    })
}

/// Where one field of the frame being read is, in the frame or (escaped) in the scratch copy.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

/// A shard's positional reader, kept between frames so that reading allocates nothing.
#[derive(Default)]
pub struct Reader {
    spans: Vec<Span>,
    /// A copy of a frame with `""` in a field, resolved in place.
    scratch: Vec<u8>,
}

impl Reader {
    /// Reads the record that `text` holds into `fields`, in the order of `columns` that has its
    /// field count; true when the values are plain text. `stamp` is the frame's syslog header
    /// time: a ZPA line's `LogTimestamp` when a header reader took it from the first field.
    pub fn read<'a>(
        &'a mut self,
        text: &'a [u8],
        stamp: Option<&'a str>,
        columns: &Columns,
        fields: &mut Fields<'a>,
    ) -> Result<bool, Reason> {
        let text = std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?;
        let b = text.as_bytes();
        let d = delimiter(b);
        self.spans.clear();
        let (mut escaped, mut quotes) = (false, false);
        let mut next = Some(0);
        while let Some(start) = next {
            let cell = scan(b, start, d)?;
            if self.spans.len() == columns.widest {
                return Err(Reason::FieldCount);
            }
            escaped |= cell.escaped;
            quotes |= cell.quotes;
            self.spans.push(Span {
                start: cell.start,
                end: cell.end,
                escaped: cell.escaped,
            });
            next = cell.next;
        }
        let order = columns
            .pick(self.spans.iter().map(|s| &text[s.start..s.end]), d)
            .ok_or(Reason::FieldCount)?;
        let source: &'a str = if escaped {
            self.scratch.clear();
            self.scratch.extend_from_slice(b);
            for span in self.spans.iter_mut().filter(|s| s.escaped) {
                span.end = span.start + unquote(&mut self.scratch[span.start..span.end]);
            }
            // Removing one quote of each pair (and blanking what is left over) keeps it UTF-8;
            // checked all the same.
            std::str::from_utf8(&self.scratch).map_err(|_| Reason::InvalidUtf8)?
        } else {
            text
        };
        // With commas, one look at the whole frame tells whether every value is plain: its only
        // quotes are those around fields unless a field held one. Tabs may be inside values.
        let checked = d == b',' && !quotes && plain(b, false);
        // The order names the log type: set first, so that no votes are counted.
        fields.sourcetype = sourcetype(order.kind);
        fields.product = order.kind.is_zpa().then_some(order.kind);
        let mut plain_values = true;
        for (i, (span, column)) in self.spans.iter().zip(&order.columns).enumerate() {
            let Some(hit) = column.hit else { continue };
            // A value LSS writes with a comma runs on through the next field.
            let end = match (order.columns.get(i + 1), self.spans.get(i + 1)) {
                (Some(next), Some(s)) if next.joins => s.end,
                _ => span.end,
            };
            let mut value = source.get(span.start..end).ok_or(Reason::InvalidUtf8)?;
            if let (0, Some(label)) = (i, order.label) {
                value = match lss::lead(value, label) {
                    Lead::Cut => stamp.unwrap_or(""),
                    Lead::Labelled(time) => time,
                    Lead::Untagged | Lead::Other => value,
                };
            }
            plain_values &= checked || plain(value.as_bytes(), true);
            fields.note(hit, Some(Scalar::Str(value)));
        }
        Ok(plain_values)
    }
}

/// Whether a JSON string can hold `bytes` as they are (quotes counted only when asked).
fn plain(bytes: &[u8], quotes: bool) -> bool {
    let quote = if quotes { b'"' } else { b'\\' };
    bytes.iter().fold(true, |ok, &c| {
        ok & (c >= 0x20) & (c != quote) & (c != b'\\')
    })
}

/// Makes each `""` one quote, in place, and blanks the bytes left over at the end (which could
/// end in the middle of a character); returns the new length.
fn unquote(buf: &mut [u8]) -> usize {
    let (mut read, mut write) = (0, 0);
    while read < buf.len() {
        buf[write] = buf[read];
        read += if buf[read] == b'"' && buf.get(read + 1) == Some(&b'"') {
            2
        } else {
            1
        };
        write += 1;
    }
    buf[write..].fill(b' ');
    write
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<String>, Reason> {
        fields(text)
            .map(|c| c.map(|c| c.unescaped().into_owned()))
            .collect()
    }

    #[test]
    fn quoting_bare_quotes_and_delimiters() {
        let ok: &[(&str, &[&str])] = &[
            (r#""a","b,c","""q""","""#, &["a", "b,c", r#""q""#, ""]),
            (r#""{"s":"p"}","x""#, &[r#"{"s":"p"}"#, "x"]),
            ("a\t\"b\tc\"\td,e", &["a", "b\tc", "d,e"]),
            ("a,b,", &["a", "b", ""]),
            (r#"a"b,"c"d""#, &[r#"a"b"#, r#"c"d"#]),
            ("", &[""]),
        ];
        for (text, want) in ok {
            assert_eq!(
                read(text),
                Ok(want.iter().map(|s| s.to_string()).collect()),
                "{text:?}"
            );
        }
        for bad in [r#""a","b"#, r#""a"b"#, "\""] {
            assert_eq!(read(bad), Err(Reason::FieldCount), "{bad:?}");
        }
    }

    #[test]
    fn every_default_column_is_an_nss_variable() {
        for (kind, names) in DEFAULTS {
            assert!(!kind.is_zpa());
            for name in names {
                assert!(nss::is_variable(name), "{kind:?}: {name}");
            }
        }
        let widths: Vec<usize> = DEFAULTS.iter().map(|(_, n)| n.len()).collect();
        assert_eq!(widths, [34, 36, 19, 14, 14, 19, 6]);
    }

    #[test]
    fn template_variables_name_their_column() {
        assert_eq!(variable("%s{login}"), "login");
        assert_eq!(variable(" %02d{hh} "), "hh");
        assert_eq!(variable("login"), "login");
        assert_eq!(variable("%s{x"), "%s{x");
    }
}

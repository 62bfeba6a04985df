//! The field orders of positional feeds, and which one a frame's values are in (see the
//! [`csv`](super) module's documentation): Zscaler's defaults for ZIA, an order `[formats]`
//! configures, LSS's default templates for ZPA ([`lss`](super::lss)).

use std::cmp::Reverse;

use super::fit::{Fit, Values};
use super::lss::{self, Written};
use crate::keys::{self, nss, Field, Hit};
use crate::kind::Kind;

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
pub(super) fn sourcetype(kind: Kind) -> Option<&'static str> {
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

/// Slots whose values are IP addresses in Zscaler's ZIA output: what tells an Admin Audit row
/// (its client IP) from a row of another log type of its count (Endpoint DLP's fourteen
/// columns hold a number there). Not for ZPA's orders: LSS may write `0` for an address.
fn address(field: Field) -> bool {
    matches!(
        field,
        Field::ClientIp | Field::ServerIp | Field::ClientIntIp | Field::NatIp
    )
}

/// One column of an order: what its key fills (nothing for a variable no record uses).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Column {
    pub(super) hit: Option<Hit>,
    pub(super) numeric: bool,
    /// An IP address ([`address`]): checked in a ZIA order only.
    pub(super) address: bool,
    /// An ISO 8601 time ([`iso_time`]).
    pub(super) time: bool,
    /// The value is a JSON document ([`Field::holds_json`]): its brackets say where it ends.
    pub(super) json: bool,
    /// A decimal number (LSS's `%f`).
    pub(super) decimal: bool,
    /// A JSON string in a comma-separated line (LSS's `%j`): its escapes are undone.
    pub(super) json_string: bool,
    /// The text that starts each of its values, in an LSS template that says so
    /// ([`lss::Template::starts`]).
    pub(super) starts: Option<&'static str>,
    /// An LSS template's column whose value may hold a comma ([`super::commas`]): text, other
    /// than the lead, an id, or a value whose start [`Column::starts`] gives.
    pub(super) commas: bool,
    /// The value that always holds a comma (ConnectionID, `<SessionID>,<id>`), in the form of
    /// an order that reads it as one field: empty in a comma-separated line that this form
    /// fits (the other form reads every other such line). A ConnectionID of one part in such a
    /// line would fit neither: a line of it with a comma elsewhere stays a dead letter.
    pub(super) empty_in_csv: bool,
    /// Written as an ISO 8601 time by its LSS template (`%s{…:iso8601}`): checked where a line
    /// is read with commas ([`super::commas`]). ([`Column::time`] marks those that
    /// [`Order::fit`] checks in every line.)
    pub(super) iso: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Order {
    pub(super) kind: Kind,
    pub(super) configured: bool,
    pub(super) columns: Vec<Column>,
    /// A ZPA template's label, which its first field names ([`lss`]).
    pub(super) label: Option<&'static str>,
    /// The only delimiter this order is for, if it is for one.
    pub(super) delimiter: Option<u8>,
    /// A column holds JSON: a line split by it may be read again ([`super::json`]).
    pub(super) json: bool,
    /// The column of a value's part before LSS's comma, and the column whose value it repeats:
    /// a line whose count fits only because another value held a comma and this one none
    /// (`Acme, Inc.` and an empty `ConnectionID`) would read every field shifted. The column
    /// after the first holds the value's rest (its own key fills nothing): the value runs on
    /// through it.
    pub(super) repeats: Option<(usize, usize)>,
    /// The places of the columns whose values can be checked ([`Order::fit`]).
    pub(super) checked: Vec<usize>,
    /// A column holds a JSON string in a comma-separated line ([`Column::json_string`]).
    pub(super) json_strings: bool,
    /// Columns whose values are lists joined with commas ([`super::lists`]).
    pub(super) lists: Option<ListRun>,
}

/// The places of a [`lss::Lists`] in an order's columns (its anchors are the columns before
/// them whose values [`Column::starts`] gives).
#[derive(Debug, Clone, Copy)]
pub(super) struct ListRun {
    pub(super) first: usize,
    pub(super) last: usize,
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
                    address: hit.is_some_and(|h| address(h.field)),
                    time: hit.is_some_and(|h| iso_time(h.field)),
                    json: hit.is_some_and(|h| h.field.holds_json()),
                    ..Column::default()
                }
            })
            .collect::<Vec<_>>();
        let mut order = Order {
            kind,
            configured,
            json: columns.iter().any(|c| c.json),
            columns,
            label: None,
            delimiter: None,
            repeats: None,
            checked: Vec::new(),
            json_strings: false,
            lists: None,
        };
        order.checked = order.checkable();
        order
    }

    /// A ZPA template's order; `split`, its comma-separated form in which the value that always
    /// holds a comma is two fields.
    fn lss(template: &lss::Template, split: bool) -> Order {
        let mut order = Order::new(template.kind, template.names, false);
        order.label = Some(template.label);
        let place = |name| template.names.iter().position(|n| *n == name);
        for (i, (column, name)) in order.columns.iter_mut().zip(template.names).enumerate() {
            match lss::written(name) {
                Written::Digits => column.numeric = true,
                Written::Decimal => column.decimal = true,
                Written::JsonInCsv => column.json_string = true,
                Written::Id => {}
                Written::Time => column.iso = true,
                // The lead is a time and a label.
                Written::Text => column.commas = i > 0,
            }
            column.starts = (template.starts.iter())
                .find(|(n, _)| n == name)
                .map(|&(_, prefix)| prefix);
            column.commas &= column.starts.is_none();
        }
        if let Some(at) = template
            .comma
            .filter(|_| !split)
            .and_then(|(name, _)| place(name))
        {
            order.columns[at].commas = false;
            order.columns[at].empty_in_csv = true;
        }
        let comma = template.comma.filter(|_| split);
        if let Some((at, of)) = comma.and_then(|(name, of)| Some((place(name)?, place(of)?))) {
            // Past the comma's value, a column's place moves by the one inserted.
            order.repeats = Some((at, if of > at { of + 1 } else { of }));
            // Both parts are ids: neither holds another comma.
            order.columns[at].commas = false;
            order.columns.insert(at + 1, Column::default());
            order.delimiter = Some(b',');
        }
        // Places are the template's: the form with a value split in two has none (no template
        // has both a value that always holds a comma and lists).
        order.lists = template
            .lists
            .as_ref()
            .filter(|_| comma.is_none())
            .and_then(|l| {
                Some(ListRun {
                    first: place(l.first)?,
                    last: place(l.last)?,
                })
            });
        order.checked = order.checkable();
        order.json_strings = order.columns.iter().any(|c| c.json_string);
        order
    }

    /// Whether `values`, separated by `delimiter`, are as many as the columns and fit them all
    /// (the lead, the numbers, the times): what a line read again must show to be read so.
    pub(super) fn fits(&self, values: Values<'_>, delimiter: u8) -> bool {
        self.delimiter.is_none_or(|d| d == delimiter)
            && values.len() == self.columns.len()
            && self.fit(values).misfits == 0
    }

    /// True for a default order none of whose columns' values can be checked (no number,
    /// address or time: SaaS Security Activity's six): any line of its count would fit, so one
    /// of its comma-separated lines must be as NSS's template writes it, every field quoted. A
    /// configured order is the admin's word for its lines, quoted or not.
    pub(super) fn unchecked(&self) -> bool {
        !self.configured && self.label.is_none() && self.checked.is_empty()
    }

    /// The places of the columns whose values [`Order::fit`] checks: numbers, decimals, ISO
    /// times, and a ZIA order's addresses (LSS may write `0` for one).
    fn checkable(&self) -> Vec<usize> {
        let zia = self.label.is_none();
        let checked = |c: &Column| c.time || c.decimal || c.numeric || (c.address && zia);
        (0..self.columns.len())
            .filter(|&i| checked(&self.columns[i]))
            .collect()
    }
}

/// The field orders of positional feeds, by log type.
#[derive(Debug, Clone)]
pub struct Columns {
    /// One per ZIA log type, in [`DEFAULTS`]' order, then the ZPA ones ([`lss::TEMPLATES`]).
    orders: Vec<Order>,
    /// The most columns of any order: a frame with more is refused before it is all read.
    pub(super) widest: usize,
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

    /// The orders that a frame of `count` fields may be in, read again: those with a column
    /// that holds JSON and fewer columns (its JSON values split at their delimiters), and those
    /// with a JSON string (LSS's `%j`), whose escaped quotes CSV's rule may take for its own.
    pub(super) fn with_json(&self, count: usize) -> impl Iterator<Item = &Order> {
        self.orders
            .iter()
            .filter(move |o| (o.json && o.columns.len() < count) || o.json_strings)
    }

    /// The orders with lists ([`super::lists`]) and fewer columns than `count`.
    pub(super) fn with_lists(&self, count: usize) -> impl Iterator<Item = &Order> {
        self.orders
            .iter()
            .filter(move |o| o.lists.is_some() && o.columns.len() < count)
    }

    /// The LSS orders a comma-separated line may be in ([`super::commas`]).
    pub(super) fn lss_in_csv(&self) -> impl Iterator<Item = &Order> {
        (self.orders.iter()).filter(|o| o.label.is_some() && o.delimiter.is_none_or(|d| d == b','))
    }

    /// Of [`Columns::lss_in_csv`], those whose log type the first field `lead` names.
    pub(super) fn named_by<'s, 'l>(
        &'s self,
        lead: &'l str,
    ) -> impl Iterator<Item = &'s Order> + use<'s, 'l> {
        (self.lss_in_csv()).filter(move |o| o.label.is_some_and(|label| lss::names(lead, label)))
    }

    /// The order for a frame of `values` separated by `delimiter`, if one has their count (and,
    /// of several, one fits).
    pub(super) fn pick(&self, values: Values<'_>, delimiter: u8) -> Option<&Order> {
        let count = values.len();
        let mut fitting = self
            .orders
            .iter()
            .filter(|o| o.columns.len() == count && o.delimiter.is_none_or(|d| d == delimiter));
        let first = fitting.next()?;
        let lead = values.get(0);
        // A line without LSS's tag, with a count only one ZIA order has, is that order's even
        // with one number it cannot read, as it was before ZPA's orders were read: a configured
        // order may share a ZPA template's count, and one such value must not turn its lines
        // into dead letters or ZPA records. More misfits, or an address or time that is none,
        // is a line of another order that a value's delimiters gave this count (a web row
        // whose agent held two `","` has the firewall's 36 fields): read so, every field would
        // be shifted.
        if !lss::tagged(lead) {
            let mut zia = std::iter::once(first)
                .chain(fitting.clone())
                .filter(|o| o.label.is_none());
            if let (Some(only), None) = (zia.next(), zia.next()) {
                let fit = only.fit(values);
                return (fit.hard == 0 && fit.misfits <= 1).then_some(only);
            }
        }
        // Otherwise every order must fit, a ZPA order even alone (its field counts are a ZIA
        // order's plus or minus one), and a tagged line fits no ZIA order.
        // Fewest misfits; of as few, a configured order over a default one; then the order
        // that reads more of the values as numbers. Absent values ("None") fit every column, so
        // a SaaS Security row with no threat or policy fits DNS's order as well as its own, and
        // only its record id and times (numbers where DNS has a login and text) tell it.
        let rank = |order: &Order, fit: Fit| (fit.misfits, !order.configured, Reverse(fit.numbers));
        let mut best = (first, first.fit(values));
        for order in fitting {
            let fit = order.fit(values);
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

#[cfg(test)]
mod tests {
    use super::*;

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

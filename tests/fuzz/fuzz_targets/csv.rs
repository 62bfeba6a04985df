//! The positional reader against a slow reference written from its documentation (char by char,
//! owned strings), and, for strictly well-formed CSV (every field quoted, quotes doubled), against
//! the `csv` crate too. The reader's web fields hold the values the reference gives; an audit read
//! again by its JSON values' brackets is one the reference reads so, into the same values.
#![no_main]

use wire::event::Kind;
use wire::fields::{Fields, Scalar};
use wire::format::csv::{self, Columns};
use wire::keys::Field;

/// The fields of `text`, a quoted one ending at a quote before the delimiter or the end, a `""`
/// inside one quote but before the delimiter or the end (the value's last quote, then the
/// closing one); `Err` for a quote that never closes.
fn reference(text: &str) -> Result<Vec<String>, ()> {
    let c: Vec<char> = text.chars().collect();
    let d = delimiter(&c);
    let ends = |j: usize| j == c.len() || c[j] == d;
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let mut value = String::new();
        if c.get(i) == Some(&'"') {
            let mut j = i + 1;
            loop {
                let &ch = c.get(j).ok_or(())?;
                if ch == '"' && ends(j + 1) {
                    i = j + 1;
                    break;
                }
                value.push(ch);
                let pair = ch == '"' && c[j + 1] == '"' && !ends(j + 2);
                j += if pair { 2 } else { 1 };
            }
        } else {
            while i < c.len() && c[i] != d {
                value.push(c[i]);
                i += 1;
            }
        }
        out.push(value);
        if i >= c.len() {
            return Ok(out);
        }
        i += 1;
    }
}

/// The fields of `text` as NSS and LSS write values, for a line CSV's rule reads into no order:
/// each runs to the next delimiter, one that a quote opens and closes without them.
fn as_written(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let unwrap = |f: &str| match f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
        true => f[1..f.len() - 1].to_string(),
        false => f.to_string(),
    };
    text.split(delimiter(&c)).map(unwrap).collect()
}

/// The field counts of the default orders: ZIA's, then ZPA's (User Activity's also with its
/// ConnectionID split at the comma).
const COUNTS: [usize; 10] = [34, 36, 19, 14, 6, 69, 70, 33, 37, 15];

/// The delimiter of `c`, as the module's documentation says.
fn delimiter(c: &[char]) -> char {
    let pattern = ['"', ',', '"'];
    let quoted = (0..c.len())
        .find(|&i| c[i..].starts_with(&pattern))
        .unwrap_or(c.len());
    if c[..quoted].contains(&'\t') {
        '\t'
    } else {
        ','
    }
}

/// One field at `i` by the plain rules: its value and where the next starts (`None` after the
/// last); `None` for a quote that never closes.
fn field(c: &[char], i: usize, d: char) -> Option<(String, Option<usize>)> {
    let mut value = String::new();
    let mut j = i;
    if c.get(i) == Some(&'"') {
        j += 1;
        loop {
            let &ch = c.get(j)?;
            if ch == '"' {
                if j + 1 == c.len() || c[j + 1] == d {
                    j += 1;
                    break;
                }
                value.push('"');
                if c[j + 1] == '"' && (j + 2 == c.len() || c[j + 2] == d) {
                    j += 2;
                    break;
                }
                j += if c[j + 1] == '"' { 2 } else { 1 };
                continue;
            }
            value.push(ch);
            j += 1;
        }
    } else {
        while j < c.len() && c[j] != d {
            value.push(c[j]);
            j += 1;
        }
    }
    Some((value, (j < c.len()).then_some(j + 1)))
}

/// A JSON object or array at `i`, maybe quoted, ending where its field does: its text and where
/// the next field starts. Brackets are matched with a stack; in strings `\` escapes a char.
fn document(c: &[char], i: usize, d: char) -> Option<(String, Option<usize>)> {
    let quoted = c.get(i) == Some(&'"');
    let open = i + usize::from(quoted);
    if !matches!(c.get(open), Some('{' | '[')) {
        return None;
    }
    let (mut stack, mut deepest, mut string, mut j) = (Vec::new(), 0, false, open);
    let end = loop {
        let &ch = c.get(j)?;
        j += 1;
        if string {
            match ch {
                '\\' => j += 1,
                '"' => string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => string = true,
            '{' | '[' => {
                stack.push(if ch == '{' { '}' } else { ']' });
                deepest = deepest.max(stack.len());
            }
            '}' | ']' => {
                if stack.pop() != Some(ch) {
                    return None;
                }
                if stack.is_empty() {
                    break j;
                }
            }
            _ => {}
        }
    };
    // Nesting deeper than 64 is not read.
    if deepest > 64 {
        return None;
    }
    let mut after = end;
    if quoted {
        if c.get(after) != Some(&'"') {
            return None;
        }
        after += 1;
    }
    if after < c.len() && c[after] != d {
        return None;
    }
    let text = c[open..end].iter().collect();
    Some((text, (after < c.len()).then_some(after + 1)))
}

/// The fields of `text` in an order of `columns` fields whose columns `json` hold JSON documents
/// (read by their brackets when they are one), if it has exactly that many.
fn reread(text: &str, columns: usize, json: [usize; 2]) -> Option<Vec<String>> {
    let c: Vec<char> = text.chars().collect();
    let d = delimiter(&c);
    let mut out = Vec::new();
    let mut next = Some(0);
    for column in 0..columns {
        let i = next?;
        let doc = json.contains(&column).then(|| document(&c, i, d)).flatten();
        let (value, after) = match doc {
            Some(doc) => doc,
            None => field(&c, i, d)?,
        };
        out.push(value);
        next = after;
    }
    next.is_none().then_some(out)
}

/// A ZPA User Status line read around its lists (`wire/src/format/csv/lists.rs`): its first 21
/// fields, its five lists (trusted networks to postures missed) empty, its last 7; none for a
/// line with a quote outside its lists or tab-separated, or without more fields than the
/// order's 33.
fn around_lists(text: &str) -> Option<Vec<String>> {
    let c: Vec<char> = text.chars().collect();
    if delimiter(&c) != ',' {
        return None;
    }
    let all: Vec<&str> = text.split(',').collect();
    if all.len() <= 33 {
        return None;
    }
    if all[..21].iter().chain(&all[all.len() - 7..]).any(|f| f.contains('"')) {
        return None;
    }
    let mut out: Vec<String> = all[..21].iter().map(|s| s.to_string()).collect();
    out.extend(std::iter::repeat_n(String::new(), 5));
    out.extend(all[all.len() - 7..].iter().map(|s| s.to_string()));
    Some(out)
}

/// Whether `value` is some of the comma-separated fields of `text` one after another, as a
/// ZPA line read with commas in its text values gives each value
/// (`wire/src/format/csv/commas.rs`).
fn a_run_of_fields(text: &str, value: &str) -> bool {
    let fields: Vec<&str> = text.split(',').collect();
    let n = fields.len();
    (0..n).any(|i| (i + 1..=n).any(|j| fields[i..j].join(",") == value))
}

/// `fields` written as RFC 4180 with every field quoted.
fn quote_all(fields: &[&str], d: char) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
        .collect();
    quoted.join(&d.to_string())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut fields = Fields::default();
    let mut reader = csv::Reader::default();
    // No syslog header here: no stamp for a ZPA lead that a header reader cut.
    let read = reader.read(data, None, &Columns::default(), &mut fields);
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(read.is_err(), "invalid UTF-8 read");
        return;
    };
    let fast: Result<Vec<String>, _> = csv::fields(text)
        .map(|c| c.map(|c| c.unescaped().into_owned()))
        .collect();
    let want = reference(text);
    assert_eq!(fast.as_ref().ok(), want.as_ref().ok());

    // An admin audit whose JSON values split it is read again by their brackets: ZIA's (14
    // fields, pre- and post-action last) and ZPA's (15, old and new value after the session).
    let audit = match (fields.sourcetype, fields.product) {
        (Some("zscalernss-audit"), _) => {
            Some((14, [12, 13], [Field::PreAction, Field::PostAction]))
        }
        (_, Some(Kind::ZpaAudit)) => Some((15, [6, 7], [Field::OldValue, Field::NewValue])),
        _ => None,
    };
    let reread_count = match (&read, &want, audit) {
        (Ok(_), Err(_), Some(_)) => true,
        (Ok(_), Ok(values), Some((count, ..))) => values.len() != count,
        _ => false,
    };
    // Else it was read as NSS and LSS write values (checked below).
    let again = audit.and_then(|(count, at, slots)| Some((reread(text, count, at)?, at, slots)));
    if let (true, Some((values, at, slots))) = (reread_count, again) {
        for (at, field) in at.into_iter().zip(slots) {
            if matches!(values[at].chars().next(), Some('{' | '[')) {
                let slot = fields.get(field).map(|s| s.value);
                assert_eq!(slot, Some(Scalar::Str(values[at].as_str())), "{field:?}");
            }
        }
        return;
    }
    // What the line holds read as NSS and LSS write values, which the reader falls back to.
    let readings = [want.clone().ok(), Some(as_written(text))];
    let around = around_lists(text);
    let user_status = fields.product == Some(Kind::ZpaUserStatus);
    let counted = readings.iter().flatten().any(|v| COUNTS.contains(&v.len()));
    if read.is_ok() && !counted && !(around.is_some() && user_status) {
        // Read with commas in its text values: a ZPA line, comma-separated with no quote,
        // at most 8 fields more than its order, each value some of its fields.
        let chars: Vec<char> = text.chars().collect();
        assert!(fields.product.is_some(), "read with no reading of an order's count");
        assert!(!text.contains('"') && delimiter(&chars) == ',', "{text:?}");
        let count = text.split(',').count();
        assert!(COUNTS.iter().any(|&c| c < count && count <= c + 8), "{count} fields");
        for field in [Field::Username, Field::SessionId, Field::Hostname, Field::Policy] {
            if let Some(Scalar::Str(value)) = fields.get(field).map(|s| s.value) {
                assert!(a_run_of_fields(text, value), "{field:?} {value:?}");
            }
        }
    }
    // A User Status line of more fields than its order's is read around its lists only: its
    // user and device are those of that reading, with a client type just before the lists.
    if let (Ok(_), true, Some(around)) = (&read, user_status, around) {
        let slot = |field| fields.get(field).map(|s| s.value);
        for (field, at) in [(Field::Username, 2), (Field::Hostname, 18)] {
            let value = around[at].as_str();
            let absent = wire::value::is_absent(value.trim());
            assert!(absent || slot(field) == Some(Scalar::Str(value)), "{field:?}");
        }
        // One status and one client type, each in its place.
        for (at, prefix) in [(4, "ZPN_STATUS_"), (20, "zpn_client_type_")] {
            assert!(around[at].starts_with(prefix), "{:?}", around[at]);
            let such = text.split(',').filter(|f| f.starts_with(prefix));
            assert_eq!(such.count(), 1, "one field starts {prefix}");
        }
    }
    if fields.sourcetype == Some("zscalernss-web") {
        // Its client IP, agent and time are those of a reading of the web order's count.
        let slot = |field| fields.get(field).map(|s| s.value);
        let web = readings.iter().flatten().filter(|v| v.len() == 34);
        let matches = |values: &Vec<String>| {
            [
                (Field::ClientIp, 21),
                (Field::UserAgent, 25),
                (Field::Time, 0),
            ]
            .into_iter()
            .all(|(field, at)| slot(field) == Some(Scalar::Str(values[at].as_str())))
        };
        assert!(web.clone().any(matches), "web fields of no reading");
    }
    if want.is_err() && read.is_err() {
        // A quote that never closes puts a line in no order: `field_count`, or `unknown_type`
        // where its lead names an LSS log type (`… zpa-lss:`) that has none.
        let chars: Vec<char> = text.chars().collect();
        let lead = text.split(delimiter(&chars)).next().unwrap_or("");
        let unknown =
            lead.trim_end().ends_with("zpa-lss:") && read == Err(wire::reason::Reason::UnknownType);
        assert!(
            unknown || read == Err(wire::reason::Reason::FieldCount),
            "{read:?}"
        );
    }
    // The same text's lines as the fields of a well-formed frame.
    let d = if data.first().is_some_and(|b| b & 1 == 1) {
        '\t'
    } else {
        ','
    };
    let parts: Vec<&str> = text.split('\n').collect();
    let frame = quote_all(&parts, d);
    if csv::fields(&frame).delimiter() != d as u8 {
        // A tab inside the first fields reads as tab-separated output: documented.
        return;
    }
    if parts.iter().any(|p| p.contains(&format!("\"{d}"))) {
        // A quote before the delimiter, doubled, reads as a value's last quote and the field's
        // end (NSS doubles none): documented.
        return;
    }
    let ours: Vec<String> = csv::fields(&frame)
        .map(|c| c.expect("well formed").unescaped().into_owned())
        .collect();
    assert_eq!(ours, parts);
    let mut theirs = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(d as u8)
        .from_reader(frame.as_bytes());
    let mut record = ::csv::StringRecord::new();
    assert!(theirs
        .read_record(&mut record)
        .expect("the csv crate reads it"));
    let theirs: Vec<&str> = record.iter().collect();
    assert_eq!(theirs, parts, "{frame:?}");
});

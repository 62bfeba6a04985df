//! The positional reader against a slow reference written from its documentation (char by char,
//! owned strings), and, for strictly well-formed CSV (every field quoted, quotes doubled), against
//! the `csv` crate too. The reader's web fields hold the values the reference gives.
#![no_main]

use wire::fields::{Fields, Scalar};
use wire::format::csv::{self, Columns};
use wire::keys::Field;

/// The fields of `text`; `Err` for a quote that never closes.
fn reference(text: &str) -> Result<Vec<String>, ()> {
    let c: Vec<char> = text.chars().collect();
    let pattern = ['"', ',', '"'];
    let quoted = (0..c.len())
        .find(|&i| c[i..].starts_with(&pattern))
        .unwrap_or(c.len());
    let d = if c[..quoted].contains(&'\t') {
        '\t'
    } else {
        ','
    };
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let mut value = String::new();
        if c.get(i) == Some(&'"') {
            let mut j = i + 1;
            loop {
                if j >= c.len() {
                    return Err(());
                }
                if c[j] == '"' {
                    if j + 1 == c.len() || c[j + 1] == d {
                        i = j + 1;
                        break;
                    }
                    value.push('"');
                    j += if c[j + 1] == '"' { 2 } else { 1 };
                    continue;
                }
                value.push(c[j]);
                j += 1;
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

    if want.is_err() {
        assert_eq!(read, Err(wire::reason::Reason::FieldCount));
    }
    if let (Ok(_), Ok(values)) = (&read, &want) {
        assert!(
            // ZIA's default orders, then ZPA's (User Activity's also with its ConnectionID
            // split at the comma).
            [34, 36, 19, 14, 6, 69, 70, 33, 37, 15].contains(&values.len()),
            "read {} fields",
            values.len()
        );
        if values.len() == 34 {
            for (field, at) in [
                (Field::ClientIp, 21),
                (Field::UserAgent, 25),
                (Field::Time, 0),
            ] {
                let slot = fields.get(field).map(|s| s.value);
                assert_eq!(slot, Some(Scalar::Str(values[at].as_str())), "{field:?}");
            }
        }
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

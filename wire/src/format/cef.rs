//! ArcSight CEF: `CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|` then the
//! extension, `key=value` pairs separated by spaces.
//!
//! What a frame is taken to mean, byte for byte (the `cef` fuzz target holds this reader to a
//! slow reference written from these rules):
//!
//! - The header is seven fields, each closed by a `|` that no backslash escapes; fewer is
//!   [`Reason::MalformedCef`]. In header fields `\|` and `\\` stand for `|` and `\`. NSS escapes
//!   no `|` in the values it writes there (a reason or rule `Block | Social`): when `|`s come
//!   before the first `=` after the seventh, the Name (the sixth field) takes them, the
//!   Severity is what comes before the last of them, and the extension starts after it (a value
//!   that holds a `=` after its `|` is not told apart: the extension's first key is lost).
//! - The extension runs from the seventh `|` (or that last one) to the end. A key is a run of
//!   letters, digits, `_`, `.` and `-` that starts the extension or follows a space, directly
//!   followed by `=`; but one followed by a quote is no key when the value before it is one a
//!   client writes (a user agent, a URL or referer, a file name, a custom string): NSS puts a
//!   user agent's ` d="3683"` or ` suser="x"` in as it came, part of the agent (one that wrote a
//!   quoted `devicehostname="…"` there would name the record's device). After NSS's own values
//!   such a run is the next key, its value started with a quote by the client
//!   (`requestClientApplication="Go" client/1.0` after `sourceTranslatedAddress=…`). A key's
//!   value runs to the space before the next key, without trailing spaces: values hold spaces
//!   (`requestClientApplication=Mozilla/5.0 (Windows NT 10.0)`), and an `=` that does not end
//!   such a key is part of the value (`request=a.com/?x=1`). Text before the first key is not a
//!   pair.
//! - In values `\=` and `\|` stand for `=` and `|` (CEF's escape of its separator; a producer that
//!   escapes pipes everywhere is read as meant). Any other backslash is the value's text: NSS
//!   escapes nothing that way (its Feed Escape Character writes `%HH`), so the `\n` of a login
//!   `CORP\nadia`, the `\\` of a share `\\srv\share` and a Windows path's `C:\temp` are what the
//!   client wrote, not CEF's escapes of a line feed and a backslash (read so, a login held a line
//!   feed, and a device's users with it).
//!
//! Zscaler's templates put NSS values where ArcSight's names fit (`suser=%s{login}`) and the rest
//! in custom fields named by a label (`cs1=%s{dept} cs1Label=dept`, `cn1Label=durationms`,
//! `cs6label=threatname`): a label is looked up as a key, so it fills what that name fills, ahead
//! of ArcSight's own keys (see [`Reader::read`]). The header's Device Product names the log type
//! (`NSSWeblog`, `NSSFWlog`, `NSSDNSlog`, …), which decides what ArcSight's names mean: the
//! templates of different types fill `outcome`, `cat`, `act` or `reason` with different
//! variables ([`lookup_cef`]). In the firewall and DNS templates the header's Name is the rule
//! (`%s{rulelabel}`), in the tunnel template its Signature ID the record type.

use super::arcsight::{header_field, header_hit, Custom};
use super::pairs;
use super::pairs::{
    header_fields, is_clean, is_plain, split_spaced, unescape_copy, widen, Range, Scan, Span,
};

use crate::fields::{Fields, Scalar};
use crate::keys::memo::Memo;
use crate::keys::{lookup_cef, table, Hit};
use crate::kind::product;
use crate::reason::Reason;

/// Fields of the header, each closed by a `|`.
const HEADER_FIELDS: usize = 7;
/// The header field that names the product, by position.
const PRODUCT: usize = 2;
/// The header field that takes the `|`s NSS leaves in a value (the Name: `%s{reason}`,
/// `%s{rulelabel}`; the Signature ID is an action or a record type, the Severity a number).
const NAME: usize = 5;

/// A shard's CEF reader, kept between frames so that reading allocates nothing.
#[derive(Default)]
pub struct Reader {
    /// A copy of a frame that holds escapes, unescaped in place: the frame itself stays as
    /// received, for its dead letter.
    scratch: Vec<u8>,
    spans: Vec<Span>,
    scan: Scan,
    /// The known keys of a frame's pairs that are no custom fields, and their values, to be
    /// noted after the custom fields.
    hits: Vec<(Hit, Range)>,
    /// The keys of the frame before, by position.
    memo: Memo,
}

/// A CEF frame taken apart.
pub type Parsed<'a> = pairs::Parsed<'a, HEADER_FIELDS>;

impl Reader {
    /// Reads the record that `text` holds (it starts at the format's first byte) into `fields`;
    /// true when the values are plain text.
    pub fn read<'a>(&'a mut self, text: &'a [u8], fields: &mut Fields<'a>) -> Result<bool, Reason> {
        let Reader {
            scratch,
            spans,
            scan,
            hits,
            memo,
        } = self;
        let parsed = parse(scratch, spans, scan, text)?;
        // The product names the log type, and so what the keys mean; a frame that names it
        // counts no votes.
        let kind = product(parsed.header(PRODUCT)).map(|(sourcetype, kind)| {
            fields.set_sourcetype(Some(sourcetype));
            kind
        });
        let lookup = |key: &str| lookup_cef(kind, key);
        let mut plain = true;
        let mut note = |fields: &mut Fields<'a>, hit: Hit, value: &'a str| {
            plain &= parsed.clean || is_plain(value);
            fields.note(hit, Some(Scalar::Str(value)));
        };
        // Custom fields are named by labels that may come before or after them. Theirs come
        // first: where a template puts one value in an ArcSight key and another in a labelled
        // field, the labelled one is the NSS variable the other formats carry (the DNS template's
        // `act` is `Req(allow),Res(allow)`, its `cs2Label=reqaction` is `Allow`; the audit
        // template's `cat` is the interface, its `cs1Label=category` the category).
        let mut custom = Custom::new();
        // One pass over the keys; a value is sliced only when its key is wanted.
        hits.clear();
        let table = table::cef(kind);
        for (position, span) in parsed.spans.iter().enumerate() {
            let key = parsed.key(span);
            if !custom.offer(key, || parsed.value(span)) {
                if let Some(hit) = memo.lookup_with(position, table, key, lookup) {
                    hits.push((hit, span.value));
                }
            }
        }
        custom.note_into(fields, Some, lookup, &mut note);
        for &(hit, value) in hits.iter() {
            let value = pairs::sub(parsed.values, value);
            note(fields, hit, value);
        }
        if let Some((field, at)) = header_field(kind) {
            note(fields, header_hit(field), parsed.header(at));
        }
        Ok(plain)
    }

    /// Takes a frame apart without looking its keys up: its header, its pairs, their values
    /// unescaped.
    pub fn parse<'a>(&'a mut self, text: &'a [u8]) -> Result<Parsed<'a>, Reason> {
        parse(&mut self.scratch, &mut self.spans, &mut self.scan, text)
    }
}

/// [`Reader::parse`], with the parts of a reader it needs: [`Reader::read`] keeps another.
fn parse<'a>(
    scratch: &'a mut Vec<u8>,
    spans: &'a mut Vec<Span>,
    scan: &mut Scan,
    text: &'a [u8],
) -> Result<Parsed<'a>, Reason> {
    // A relay may have put a space after the `CEF:` it took for a syslog tag.
    let header = match text.starts_with(b"CEF:") {
        true => header_fields(text, super::after_spaces(text, 4), Reason::MalformedCef),
        false => Err(Reason::MalformedCef),
    };
    let (mut header, extension) = match header {
        Ok((mut header, extension)) => {
            let extension = widen(text, &mut header, extension, NAME);
            (header, extension)
        }
        // Text that is no UTF-8 is said first, whatever else is wrong with it.
        Err(malformed) => {
            std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?;
            return Err(malformed);
        }
    };
    spans.clear();
    split_spaced::<false>(&text[extension..], scan, |key, value| {
        spans.push(Span {
            key: (extension + key.0, extension + key.1),
            value: (extension + value.0, extension + value.1),
        });
    });
    // The scan saw every byte of the extension, and so whether the whole frame is ASCII.
    let s = if scan.ascii() && text[..extension].is_ascii() {
        // SAFETY: ASCII is UTF-8.
        unsafe { std::str::from_utf8_unchecked(text) }
    } else {
        std::str::from_utf8(text).map_err(|_| Reason::InvalidUtf8)?
    };
    // A clean frame holds no backslash.
    let clean = is_clean(&text[..extension]) && scan.clean();
    if clean || memchr::memchr(b'\\', text).is_none() {
        return Ok(Parsed {
            text: s,
            values: s,
            header,
            spans,
            clean,
        });
    }
    let values = unescape_copy(scratch, text, &mut header, spans, extension_escape)?;
    Ok(Parsed {
        text: s,
        values,
        header,
        spans,
        clean: false,
    })
}

/// What an extension escape stands for, given the bytes after its backslash: only the
/// separators' (see the module's comment).
fn extension_escape(rest: &[u8]) -> Option<u8> {
    let c = *rest.first()?;
    matches!(c, b'=' | b'|').then_some(c)
}

#[cfg(test)]
mod tests;

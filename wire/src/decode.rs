//! One frame from bytes to its record: read the syslog header, detect the feed format of what
//! follows, read it into fields, decide its log type, build the event and write its record.
//! Nothing is copied on the way for a plain frame. What the collector needs besides the record
//! comes back as [`Facts`], borrowing from the frame.

use std::cell::RefCell;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::event::columns;
use crate::event::zia_dns::DnsEvent;
use crate::event::zia_firewall::FirewallEvent;
use crate::event::zpa_browser::BrowserEvent;
use crate::event::zpa_status::StatusEvent;
use crate::event::{classify, ActivityEvent, Context, Facts, Kind, Reason, WebEvent};
use crate::fields::{Fields, Scratch};
use crate::format::csv::Columns;
use crate::format::{cef, csv, detect, json, kv, leef, Format};
use crate::header;
use crate::record::Writer;
use crate::time;

/// How many `{` of a frame are tried as the start of its JSON: static template text before the
/// record may hold a brace or two (`ZSCALER {web}: {…}`).
const JSON_STARTS: usize = 4;

/// A shard's decoding state, reused for every frame.
pub struct Decoder {
    /// Zone of feed times that carry none (`feed_timezone`), unless the caller names another.
    zone: TimeZone,
    readers: Readers,
}

/// What a decoder keeps between frames besides its zone.
struct Readers {
    /// Field orders of positional feeds.
    columns: Columns,
    json: json::Reader,
    leef: leef::Reader,
    cef: cef::Reader,
    kv: kv::Reader,
    csv: csv::Reader,
    records: Writer,
    /// Room for the values of a frame's event that are decoded.
    scratch: Scratch,
    /// The last time text read.
    times: RefCell<time::Recent>,
}

/// A decoded frame: what the collector needs of it, and its payload: the frame after its syslog
/// headers (a relay's and the sender's), without trailing NULs and whitespace. Two frames with the
/// same payload are the same record sent twice (DESIGN §3 "Duplicates"). When the record's time
/// is its header's (IBM's QRadar templates put LogTimestamp only there), the payload is the frame
/// from that header on: a replay repeats the header too, and two events that differ only in
/// their time are not one sent twice; a relay's header before it is not the record's, and the
/// record sent directly and through a relay is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<'a> {
    pub facts: Facts<'a>,
    pub payload: &'a [u8],
    /// A key of the frame came twice with two values, and its field was left out of the record,
    /// or keys a client's text wrote were set aside ([`Fields::contested`]): the caller keeps
    /// the frame as a `repeated_key` dead letter too, so that nothing it held is lost.
    pub contested: bool,
}

impl Decoder {
    /// A decoder whose feed times without a zone are in `zone`, and whose positional feeds use
    /// Zscaler's default field orders.
    pub fn new(zone: TimeZone) -> Self {
        Decoder::with_columns(zone, Columns::default())
    }

    pub fn with_columns(zone: TimeZone, columns: Columns) -> Self {
        Decoder {
            zone,
            readers: Readers {
                columns,
                json: json::Reader::default(),
                leef: leef::Reader::default(),
                cef: cef::Reader::default(),
                kv: kv::Reader::default(),
                csv: csv::Reader::default(),
                records: Writer::default(),
                scratch: Scratch::default(),
                times: RefCell::default(),
            },
        }
    }

    /// Decodes one frame (its syslog header included) and appends its record to `out`. `received`
    /// is when it was read: the time of a record that carries none. On an error nothing is
    /// appended.
    pub fn decode<'a>(
        &'a mut self,
        frame: &'a [u8],
        received: Timestamp,
        out: &mut Vec<u8>,
    ) -> Result<Decoded<'a>, Reason> {
        self.readers
            .decode(frame, received, &self.zone, out, &mut |_| {})
    }

    /// Like [`decode`](Self::decode), with feed times without a zone in `zone` (the input's
    /// `feed_timezone`), telling `device` the id of the record's device as soon as it is known,
    /// before the record is written: a caller that looks the device up afterwards can ask for
    /// its memory meanwhile (the lookup of a collector with thousands of devices misses the
    /// caches, and writing the record takes longer than that miss).
    pub fn decode_noting<'a>(
        &'a mut self,
        frame: &'a [u8],
        received: Timestamp,
        zone: &TimeZone,
        out: &mut Vec<u8>,
        device: &mut impl FnMut(u64),
    ) -> Result<Decoded<'a>, Reason> {
        self.readers.decode(frame, received, zone, out, device)
    }
}

impl Readers {
    // Not inlined: perf/format-instructions.sh counts frames by the calls of this function.
    #[inline(never)]
    fn decode<'a>(
        &'a mut self,
        frame: &'a [u8],
        received: Timestamp,
        zone: &TimeZone,
        out: &mut Vec<u8>,
        device: &mut impl FnMut(u64),
    ) -> Result<Decoded<'a>, Reason> {
        let whole = frame;
        let frame = trim_end(frame);
        let stack = header::split_stacked(frame);
        let (header, body) = (stack.header, stack.body);
        let ctx = Context {
            zone,
            received,
            header,
            times: &self.times,
            took_header_time: std::cell::Cell::new(false),
        };
        let message = &frame[body..];
        // Bytes in no format that are no text either are said to be that: they would be
        // `invalid_utf8` whenever a tab or a comma among them made a format worth trying.
        let (format, at) = detect(message).ok_or_else(|| match std::str::from_utf8(message) {
            Ok(_) => Reason::UnknownFormat,
            Err(_) => Reason::InvalidUtf8,
        })?;
        let text = &message[at..];
        let mut fields = Fields::default();
        let plain = match format {
            Format::Json => {
                let at = json_start(message).ok_or(Reason::UnknownFormat)?;
                self.json.read(&message[at..], &mut fields)?
            }
            Format::Leef => self.leef.read(text, &mut fields)?,
            Format::Cef => self.cef.read(text, &mut fields)?,
            Format::Kv => self.kv.read(text, &mut fields)?,
            Format::Csv => {
                // The tabs that end a tab-separated line are fields' (LSS's TSV templates end
                // with fields mostly empty): trimmed, the line would be short of them. A comma-
                // separated line keeps its trimming (a tab after its last quote is no field).
                let text = match csv::delimiter(text) {
                    b'\t' => trim_end_but_tabs(&whole[body + at..]),
                    _ => text,
                };
                let stamp = header.timestamp();
                let read = self.csv.read(text, stamp, &self.columns, &mut fields)?;
                ctx.took_header_time.set(read.took_stamp);
                read.plain
            }
        };
        // A sourcetype or product in doubt: which log type the frame is, it does not say.
        if fields.repeated() {
            return Err(Reason::RepeatedKey);
        }
        // Static text before the record is the feed's: it stays in the record's identity.
        let payload = frame[stack.message..].trim_ascii_start();
        build(
            (&mut self.records, &mut self.scratch),
            &fields,
            &ctx,
            plain,
            out,
            device,
            [payload, &frame[stack.start..]],
        )
        // What a contested field leaves is no record (a device with neither hostname nor
        // address): the repeat is why.
        .map_err(|reason| match fields.contested() {
            true => Reason::RepeatedKey,
            false => reason,
        })
    }
}

/// The record of a frame whose fields are read: classify, build, write. It returns the whole
/// [`Decoded`], each arm making it where it is returned: its facts (300 bytes) wrapped in a
/// `Result` and then in the `Decoded` were copied at each step, four `memcpy` calls a record.
fn build<'a>(
    (records, scratch): (&mut Writer, &'a mut Scratch),
    f: &Fields<'a>,
    ctx: &Context<'_>,
    plain: bool,
    out: &mut Vec<u8>,
    device: &mut impl FnMut(u64),
    [payload, frame]: [&'a [u8]; 2],
) -> Result<Decoded<'a>, Reason> {
    let kind = classify(f)?;
    let mut note = |d: &Option<crate::event::Device<'_>>| {
        if let Some(d) = d {
            device(d.id);
        }
    };
    // Called once the event is built, and with it the record's time.
    let decoded = |facts| {
        let payload = if ctx.took_header_time.get() {
            frame
        } else {
            payload
        };
        Ok(Decoded {
            facts,
            payload,
            contested: f.contested(),
        })
    };
    match kind {
        Kind::ZiaWeb => {
            let ev = WebEvent::from_fields(f, ctx, scratch)?;
            note(&ev.device);
            records.zia_web(&ev, plain, out);
            decoded(ev.into_facts())
        }
        Kind::ZiaFirewall => {
            let ev = FirewallEvent::from_fields(f, ctx, scratch)?;
            note(&ev.device);
            records.zia_firewall(&ev, plain, out);
            decoded(ev.into_facts())
        }
        Kind::ZiaDns => {
            let ev = DnsEvent::from_fields(f, ctx, scratch)?;
            note(&ev.device);
            records.zia_dns(&ev, plain, out);
            decoded(ev.into_facts())
        }
        Kind::ZpaUserActivity => {
            let ev = ActivityEvent::from_fields(f, ctx)?;
            note(&ev.device);
            records.zpa_user_activity(&ev, plain, out);
            decoded(ev.into_facts())
        }
        Kind::ZpaUserStatus => {
            let ev = StatusEvent::from_fields(f, ctx)?;
            note(&ev.device);
            records.zpa_user_status(&ev, plain, out);
            decoded(ev.into_facts())
        }
        Kind::ZpaBrowserAccess => {
            let ev = BrowserEvent::from_fields(f, ctx)?;
            note(&ev.device);
            records.zpa_browser_access(&ev, plain, out);
            decoded(ev.into_facts())
        }
        Kind::ZiaTunnel
        | Kind::ZiaAudit
        | Kind::ZiaSaas
        | Kind::ZiaSaasActivity
        | Kind::ZpaAppConnectorStatus
        | Kind::ZpaAudit
        | Kind::ZpaAppProtection => {
            let columns = columns::of(kind).ok_or(Reason::UnknownType)?;
            let facts = columns::facts(kind, f, ctx)?;
            note(&facts.device);
            records.columns(kind, columns, f, facts.ts, ctx, plain, out);
            decoded(facts)
        }
    }
}

/// Where the JSON of a message begins: at its first `{`, unless static template text with braces
/// of its own comes first (`ZSCALER {web}: {…}`); then at the first of the next few `{` whose
/// object closes at the end of the frame, if what it passes over holds no JSON object (`{"k":`):
/// text and two records glued on one line are one malformed frame, not the second record with
/// the first passed over as text.
fn json_start(message: &[u8]) -> Option<usize> {
    let first = memchr::memchr(b'{', message)?;
    if message[..first].iter().all(u8::is_ascii_whitespace) {
        return Some(first);
    }
    let later = memchr::memchr_iter(b'{', message)
        .take(JSON_STARTS)
        .find(|&at| closes_at_end(&message[at..]));
    match later {
        Some(at) if !holds_object(&message[first..at]) => Some(at),
        _ => Some(first),
    }
}

/// Whether `text` holds what starts a JSON object: `{`, a quoted key, `:` (whitespace between
/// them allowed). Braces around quoted words (`ZSCALER {"web"}: `) are no object.
fn holds_object(text: &[u8]) -> bool {
    let skip_ws = |at: usize| {
        let ws = text.get(at..).unwrap_or_default();
        at + ws.iter().take_while(|b| b.is_ascii_whitespace()).count()
    };
    memchr::memchr_iter(b'{', text).any(|brace| {
        let open = skip_ws(brace + 1);
        if text.get(open) != Some(&b'"') {
            return false;
        }
        let mut at = open + 1;
        loop {
            match text.get(at) {
                Some(b'\\') => at += 2,
                Some(b'"') => break,
                Some(_) => at += 1,
                None => return false,
            }
        }
        text.get(skip_ws(at + 1)) == Some(&b':')
    })
}

/// Whether the object that `text` starts with ends with its last byte (strings and their escapes
/// followed, nothing else checked: the parser does that).
fn closes_at_end(text: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1 == text.len();
                }
            }
            _ => {}
        }
    }
    false
}

/// A frame without the NULs and whitespace some senders leave at its end.
fn trim_end(frame: &[u8]) -> &[u8] {
    let keep = frame
        .iter()
        .rposition(|b| *b != 0 && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &frame[..keep]
}

/// The feed format of a frame's record, after its syslog headers and static text, as the
/// decoder detects it: what an input that takes lines of several formats (a Cloud NSS body)
/// asks of a line before it takes them.
pub fn feed_format(frame: &[u8]) -> Option<Format> {
    let frame = trim_end(frame);
    let body = header::split_stacked(frame).body;
    detect(&frame[body..]).map(|(format, _)| format)
}

/// Whether a frame's record is in a feed format other than JSON ([`feed_format`]): a line an
/// input of JSON records (a Cloud NSS body) takes as TCP would, and loadgen may post as one.
pub fn in_another_feed_format(frame: &[u8]) -> bool {
    feed_format(frame).is_some_and(|format| format != Format::Json)
}

/// Like [`trim_end`], tabs kept.
fn trim_end_but_tabs(frame: &[u8]) -> &[u8] {
    let keep = frame
        .iter()
        .rposition(|b| *b != 0 && (*b == b'\t' || !b.is_ascii_whitespace()))
        .map_or(0, |i| i + 1);
    &frame[..keep]
}

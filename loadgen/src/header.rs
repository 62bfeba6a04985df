//! The syslog header before each synthetic record (--header), in place of the one its template
//! writes, if any.
//!
//! Collectors parse the header before the record, so a header costs them work and changes where
//! their JSON parser must start: a comparison on realistic lines needs both, with the same records
//! behind. The header's time is the record's feed time, so that header and record agree.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::args::HeaderArg;

/// The feed time the synthetic records start at (`wire::synth`'s `NSS_EPOCH`): with `at_rate`,
/// record k (from 1) of every generator is at this second plus k / rate.
const FEED_EPOCH: u64 = 1_763_800_000;
/// PRI 134: facility local0, severity informational, what syslog forwarders of NSS feeds use.
const PRI: &str = "<134>";

/// The header a generated record carries already, which --header replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Own {
    Nothing,
    /// A header up to the first `tag`, where the record proper starts: the Sekoia template's
    /// `Nov 22 10:15:01 zscaler-nss ` before `{`, the LEEF preset's `… zscaler-nss: ` before
    /// `LEEF:`, the CEF preset's `… zscaler-nss ` before `CEF:`.
    Before(&'static [u8]),
}

impl Own {
    /// `record` without this header.
    fn strip(self, record: &[u8]) -> &[u8] {
        match self {
            Own::Nothing => record,
            Own::Before(tag) => {
                let at = record.windows(tag.len()).position(|w| w == tag);
                &record[at.unwrap_or(0)..]
            }
        }
    }
}

/// Who the header says sent the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    pub host: &'static str,
    /// RFC 3164's tag, RFC 5424's APP-NAME.
    pub app: &'static str,
}

pub const NSS: Sender = Sender {
    host: "zscaler-nss",
    app: "nss",
};
pub const LSS: Sender = Sender {
    host: "zpa-lss",
    app: "lss",
};

/// Puts the asked header before each record, in order: the n-th call is the n-th record the
/// generator wrote, whose feed second it computes as the generator does.
pub struct Headers {
    header: HeaderArg,
    own: Own,
    sender: Sender,
    per_second: u64,
    written: u64,
    /// The feed second `prefix` was written for: the header changes once a second of feed time,
    /// so it is formatted once a second, not once a record.
    second: Option<u64>,
    prefix: String,
    out: Vec<u8>,
}

impl Headers {
    pub fn new(header: HeaderArg, own: Own, sender: Sender, per_second: u64) -> Self {
        Headers {
            header,
            own,
            sender,
            per_second: per_second.max(1),
            written: 0,
            second: None,
            prefix: String::with_capacity(80),
            out: Vec::with_capacity(4096),
        }
    }

    /// The next record with the asked header in front, its own one gone.
    pub fn put<'a>(&'a mut self, record: &'a [u8]) -> &'a [u8] {
        self.written += 1;
        let body = self.own.strip(record);
        if self.header == HeaderArg::None {
            return body;
        }
        let second = FEED_EPOCH + self.written / self.per_second;
        if self.second != Some(second) {
            self.second = Some(second);
            self.prefix.clear();
            write_prefix(&mut self.prefix, self.header, self.sender, second);
        }
        self.out.clear();
        self.out.extend_from_slice(self.prefix.as_bytes());
        self.out.extend_from_slice(body);
        &self.out
    }
}

/// The header of a record written at `second` (Unix time), with the space before the record.
fn write_prefix(out: &mut String, header: HeaderArg, sender: Sender, second: u64) {
    let at = i64::try_from(second)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let Sender { host, app } = sender;
    // Writing to a String cannot fail.
    let _ = match header {
        HeaderArg::None => Ok(()),
        // RFC 3164 pads the day with a space: `Nov  2`.
        HeaderArg::Rfc3164 => write!(out, "{PRI}{} {host} {app}: ", at.strftime("%b %e %T")),
        HeaderArg::Rfc5424 => write!(
            out,
            "{PRI}1 {} {host} {app} - - - ",
            at.strftime("%Y-%m-%dT%TZ")
        ),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headed(header: HeaderArg, own: Own, records: &[&str]) -> Vec<String> {
        let mut h = Headers::new(header, own, NSS, 2);
        records
            .iter()
            .map(|r| String::from_utf8(h.put(r.as_bytes()).to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn rfc3164_and_5424_headers_carry_the_feed_second() {
        let lines = headed(HeaderArg::Rfc3164, Own::Nothing, &["{}", "{}", "{}"]);
        // Two records a second: the first is at second 0 of the feed, the next two at second 1.
        assert_eq!(lines[0], "<134>Nov 22 08:26:40 zscaler-nss nss: {}");
        assert_eq!(lines[2], "<134>Nov 22 08:26:41 zscaler-nss nss: {}");
        let lines = headed(HeaderArg::Rfc5424, Own::Nothing, &["a=1"]);
        assert_eq!(
            lines[0],
            "<134>1 2025-11-22T08:26:40Z zscaler-nss nss - - - a=1"
        );
    }

    #[test]
    fn a_template_header_is_replaced_or_removed() {
        let sekoia = "Nov 22 08:26:40 zscaler-nss { \"a\" : 1}";
        assert_eq!(
            headed(HeaderArg::None, Own::Before(b"{"), &[sekoia]),
            ["{ \"a\" : 1}"]
        );
        let leef = "Nov 22 08:26:40 zscaler-nss: LEEF:1.0|Zscaler|NSS|4.1|Allowed|cat=x";
        assert_eq!(
            headed(HeaderArg::Rfc5424, Own::Before(b"LEEF:"), &[leef]),
            ["<134>1 2025-11-22T08:26:40Z zscaler-nss nss - - - LEEF:1.0|Zscaler|NSS|4.1|Allowed|cat=x"]
        );
    }

    #[test]
    fn single_digit_days_are_space_padded() {
        let mut s = String::new();
        write_prefix(&mut s, HeaderArg::Rfc3164, LSS, 1_762_041_600);
        assert_eq!(s, "<134>Nov  2 00:00:00 zpa-lss lss: ");
    }
}

//! Which subjects the collector publishes, and whether a stream's subjects take them: an
//! existing stream that already takes every one (an operator's `ztel.records.>` and
//! `ztel.devices`, say) must be left as it is, since adding `<prefix>.>` beside subjects it
//! overlaps is refused by the server. async-nats has no matcher of its own (the server
//! matches), and NATS's rules fit in a few lines: tokens split on '.', `*` matches one token,
//! `>` (last) one or more.

use wire::event::Kind;

/// Every subject the collector publishes to with `prefix`: `<prefix>.records.<kind>` for each
/// kind, as [`super::outbox::Outbox`] builds them, and `<prefix>.devices`.
pub fn published(prefix: &str) -> Vec<String> {
    Kind::ALL
        .iter()
        .map(|kind| format!("{prefix}.records.{}", kind.as_str()))
        .chain(std::iter::once(format!("{prefix}.devices")))
        .collect()
}

/// Whether the subject filter `filter` (wildcards allowed) matches the literal `subject`.
pub fn matches(filter: &str, subject: &str) -> bool {
    let mut filter = filter.split('.');
    let mut subject = subject.split('.');
    loop {
        match (filter.next(), subject.next()) {
            (None, None) => return true,
            // `>` takes the rest, at least one token; it is a wildcard only as the last token
            // (the server refuses a stream subject with one elsewhere).
            (Some(">"), Some(_)) => return filter.next().is_none(),
            (Some("*"), Some(_)) => {}
            (Some(f), Some(s)) if f == s => {}
            _ => return false,
        }
    }
}

/// The subjects of `published(prefix)` that none of `filters` matches.
pub fn missing(filters: &[String], prefix: &str) -> Vec<String> {
    published(prefix)
        .into_iter()
        .filter(|s| !filters.iter().any(|f| matches(f, s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_subjects_match_themselves_only() {
        assert!(matches("ztel.devices", "ztel.devices"));
        assert!(!matches("ztel.devices", "ztel.device"));
        assert!(!matches("ztel.devices", "ztel.devices.x"));
        assert!(!matches("ztel.devices.x", "ztel.devices"));
        assert!(!matches("ztel", "ztel.devices"));
    }

    #[test]
    fn a_star_matches_one_token() {
        assert!(matches("ztel.*", "ztel.devices"));
        assert!(matches("*.devices", "ztel.devices"));
        assert!(matches("ztel.records.*.web", "ztel.records.zia.web"));
        assert!(!matches("ztel.*", "ztel.records.zia.web"));
        assert!(!matches("ztel.records.*", "ztel.records.zia.web"));
        assert!(!matches("ztel.*", "ztel"));
    }

    #[test]
    fn a_greater_than_matches_one_or_more_trailing_tokens() {
        assert!(matches("ztel.>", "ztel.devices"));
        assert!(matches("ztel.>", "ztel.records.zia.web"));
        assert!(matches(">", "ztel.devices"));
        assert!(matches("ztel.*.zia.>", "ztel.records.zia.web"));
        assert!(!matches("ztel.>", "ztel"));
        assert!(!matches("ztel.records.>", "ztel.devices"));
        assert!(!matches("zt.>", "ztel.devices"));
        // Not last: no wildcard (and no stream has one there).
        assert!(!matches("ztel.>.web", "ztel.records.zia.web"));
    }

    #[test]
    fn published_subjects_are_every_kind_and_the_devices() {
        let all = published("zt3");
        assert_eq!(all.len(), Kind::ALL.len() + 1);
        assert!(all.contains(&"zt3.records.zia.web".to_string()));
        assert!(all.contains(&"zt3.records.zpa.app_connector_status".to_string()));
        assert_eq!(all.last().map(String::as_str), Some("zt3.devices"));
    }

    #[test]
    fn what_a_stream_misses() {
        let subjects = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // The stream `<prefix>.>` makes, and an operator's narrower ones, take everything.
        assert!(missing(&subjects(&["zt3.>"]), "zt3").is_empty());
        assert!(missing(&subjects(&["zt3.records.>", "zt3.devices"]), "zt3").is_empty());
        assert!(missing(&subjects(&["zt3.*", "zt3.records.>"]), "zt3").is_empty());
        assert!(missing(&subjects(&["other.>", ">"]), "zt3").is_empty());
        assert!(missing(&subjects(&["zt3.records.*.*", "*.devices"]), "zt3").is_empty());
        // Records only, or one product only: what is left out is named.
        assert_eq!(
            missing(&subjects(&["zt3.records.>"]), "zt3"),
            ["zt3.devices"]
        );
        let zia_only = missing(&subjects(&["zt3.records.zia.>", "zt3.devices"]), "zt3");
        let zpa_kinds = Kind::ALL.iter().filter(|k| k.is_zpa()).count();
        assert_eq!(zia_only.len(), zpa_kinds, "{zia_only:?}");
        assert!(zia_only.iter().all(|s| s.starts_with("zt3.records.zpa.")));
        // Another prefix, or none.
        assert_eq!(
            missing(&subjects(&["ztel.>"]), "zt3").len(),
            Kind::ALL.len() + 1
        );
        assert_eq!(missing(&[], "zt3").len(), Kind::ALL.len() + 1);
        // A prefix of several tokens.
        assert!(missing(&subjects(&["a.b.>"]), "a.b").is_empty());
        assert_eq!(
            missing(&subjects(&["a.*"]), "a.b").len(),
            Kind::ALL.len() + 1
        );
    }
}

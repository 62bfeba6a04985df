use super::*;

#[test]
fn the_compiler_summarises_keys_as_lookups_do() {
    for key in all() {
        let name = key.name.as_bytes();
        assert!(Summary::of_const(name) == Summary::of(name), "{}", key.name);
    }
}

#[test]
fn every_key_of_every_dialect_is_found_with_its_meaning() {
    for dialect in SHARED {
        for key in dialect {
            let hit = lookup(key.name).unwrap_or_else(|| panic!("{} not found", key.name));
            assert_eq!(hit.field, key.field, "{}", key.name);
            assert_eq!(hit.encoding, key.encoding, "{}", key.name);
            assert_eq!(hit.vote, key.vote, "{}", key.name);
        }
    }
    for key in leef::KEYS {
        assert_eq!(
            lookup_leef(key.name).map(|h| h.field),
            Some(key.field),
            "{}",
            key.name
        );
    }
    assert_eq!(
        lookup_leef("cat").map(|h| h.field),
        Some(Field::Action),
        "LEEF's own first"
    );
    assert_eq!(lookup("cat").map(|h| h.field), Some(Field::Category));
    assert_eq!(
        lookup_leef("cip").map(|h| h.field),
        Some(Field::ClientIp),
        "then everyone's"
    );
    let mut names: Vec<&str> = all().iter().map(|k| k.name).collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "the table holds a name twice");
}

#[test]
fn a_cef_frame_reads_arcsight_names_as_its_log_type_means_them() {
    let types = [
        (Kind::ZiaAudit, cef::AUDIT),
        (Kind::ZiaTunnel, cef::TUNNEL),
        (Kind::ZiaSaas, cef::SAAS),
        (Kind::ZiaSaasActivity, cef::SAAS_ACTIVITY),
    ];
    for (kind, keys) in types {
        for key in keys {
            let hit = lookup_cef(Some(kind), key.name).map(|h| (h.field, h.encoding));
            assert_eq!(
                hit,
                Some((key.field, key.encoding)),
                "{kind:?} {}",
                key.name
            );
        }
    }
    let field = |kind, key| lookup_cef(kind, key).map(|h| h.field);
    assert_eq!(field(Some(Kind::ZiaAudit), "outcome"), Some(Field::Result));
    assert_eq!(field(Some(Kind::ZiaWeb), "outcome"), Some(Field::RespCode));
    assert_eq!(field(None, "outcome"), Some(Field::RespCode));
    assert_eq!(field(Some(Kind::ZiaSaas), "act"), Some(Field::Policy));
    assert_eq!(
        field(Some(Kind::ZiaSaasActivity), "act"),
        Some(Field::ActivityType)
    );
    assert_eq!(field(Some(Kind::ZiaFirewall), "act"), Some(Field::Action));
    // A type's own table does not hide the shared one.
    assert_eq!(field(Some(Kind::ZiaAudit), "suser"), Some(Field::Login));
    assert_eq!(field(Some(Kind::ZiaTunnel), "nope"), None);
}

#[test]
fn near_misses_are_unknown() {
    assert_eq!(lookup("Cip"), None, "keys are case-sensitive");
    assert_eq!(lookup("nope"), None);
    assert_eq!(lookup(""), None);
    // Same length, same first or last bytes, a prefix, longer than 16 bytes.
    for key in [
        "cipx",
        "ci",
        "devicehostnamE",
        "TimestampConnectionStarT",
        "TimestampConnectionStart_",
        "TimestampXonnectionStart",
        "eurl ",
        "recordi",
    ] {
        assert_eq!(lookup(key), None, "{key}");
    }
}

proptest::proptest! {
    /// The table answers exactly as a search through the entries would, for keys near the real
    /// ones (an edit of a real name) and for any text.
    #[test]
    fn table_is_exact(index in 0usize..10_000, at in 0usize..32, c in 0x20u8..0x7f, any in ".{0,24}") {
        let keys = all();
        let mut near = keys[index % keys.len()].name.as_bytes().to_vec();
        let at = at % (near.len() + 1);
        if at < near.len() { near[at] = c } else { near.push(c) }
        for key in [String::from_utf8(near).unwrap(), any] {
            let expected = keys.iter().find(|k| k.name == key).map(|k| k.field);
            proptest::prop_assert_eq!(lookup(&key).map(|hit| hit.field), expected, "{}", key);
        }
    }
}

use super::*;
use crate::keys::lookup;

#[test]
fn a_key_with_two_values_leaves_its_field_empty() {
    let (sip, serverip) = (lookup("sip").unwrap(), lookup("serverip").unwrap());
    // Whether the field was contested, and what it holds after.
    let read = |notes: &[(Hit, &'static str)]| {
        let mut fields = Fields::default();
        for &(hit, value) in notes {
            fields.note(hit, Some(Scalar::Str(value)));
        }
        let text = fields.text(sip.field).map(|t| t.into_owned());
        (fields.contested(), text)
    };
    assert_ne!(sip.key, serverip.key);
    let one = |ip: &str| (false, Some(ip.to_string()));
    assert_eq!(
        read(&[(sip, "1.1.1.1"), (serverip, "2.2.2.2")]),
        one("1.1.1.1")
    );
    assert_eq!(read(&[(sip, "1.1.1.1"), (sip, "1.1.1.1")]), one("1.1.1.1"));
    assert_eq!(read(&[(sip, "1.1.1.1"), (sip, "2.2.2.2")]), (true, None));
    assert_eq!(read(&[(sip, "None"), (sip, "2.2.2.2")]), (true, None));
    // Contested for good: no other name fills it after, and no third value.
    let after = [(sip, "1.1.1.1"), (sip, "2.2.2.2"), (serverip, "3.3.3.3")];
    assert_eq!(read(&after), (true, None));
    assert_eq!(read(&[(sip, "1"), (sip, "2"), (sip, "1")]), (true, None));
    let urlclass = lookup("urlclass").unwrap();
    assert_eq!(urlclass.field, Field::Other);
    let mut fields = Fields::default();
    fields.note(urlclass, Some(Scalar::Str("a")));
    fields.note(urlclass, Some(Scalar::Str("b")));
    assert!(!fields.contested(), "a vote fills no record");
    // Values no key gave (columns, the CEF header) are never repeats.
    let unkeyed = [(sip.unkeyed(), "1.1"), (sip.unkeyed(), "2.2")];
    assert_eq!(read(&unkeyed), one("1.1"));
}

#[test]
fn an_envelope_after_the_records_keys_is_set_aside() {
    let sip = lookup("sip").unwrap();
    // Beside an envelope: a relay's keys are forgotten, the record's own set it aside.
    let mut fields = Fields::default();
    fields.note(lookup("time").unwrap(), Some(Scalar::Str("1700000000")));
    fields.note(lookup("host").unwrap(), Some(Scalar::Str("relay-1")));
    assert!(fields.take_envelope(), "HEC's time and host");
    assert!(fields.get(Field::Time).is_none() && !fields.contested());
    fields.after_envelope(lookup("host"));
    fields.after_envelope(lookup("index"));
    assert!(!fields.contested(), "HEC's host and index, after the event");
    fields.after_envelope(Some(sip));
    assert!(fields.contested(), "a record key after the envelope");
    let mut fields = Fields::default();
    fields.note(sip, Some(Scalar::Str("1.1.1.1")));
    assert!(!fields.take_envelope(), "a record key, then an envelope");
    assert!(fields.contested() && !fields.repeated());
    assert_eq!(fields.text(Field::ServerIp).as_deref(), Some("1.1.1.1"));
}

#[test]
fn votes_stop_at_their_maximum_instead_of_wrapping() {
    // A frame may repeat a voting key more often than a u16 counts: the votes must stay
    // a majority, not wrap round to none.
    let mut fields = Fields::default();
    let (zia, kind) = (lookup("cip").unwrap(), lookup("reqmethod").unwrap());
    for _ in 0..70_000 {
        fields.note(zia, None);
        fields.note(kind, None);
    }
    assert_eq!(fields.votes.zia, u16::MAX);
    assert_eq!(fields.votes.zpa, 0);
    assert!(fields.votes.kinds.contains(&u8::MAX));
}

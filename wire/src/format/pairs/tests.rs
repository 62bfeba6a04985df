use super::*;

#[test]
fn vector_masks_are_the_scalar_ones() {
    let mut block = [0u8; 64];
    for start in (0..256).step_by(64) {
        for (i, b) in block.iter_mut().enumerate() {
            *b = (start + i) as u8;
        }
        for sep in [b' ', b'\t', 0, 0xff] {
            assert_eq!(block_masks(&block, sep), block_masks_scalar(&block, sep));
        }
    }
}

#[test]
fn scans_find_bits_across_words() {
    let mut text = vec![b'k'; 200];
    text[0] = b' ';
    text[150] = b'=';
    text[199] = b'=';
    let mut scan = Scan::default();
    scan.run(&text, b' ');
    assert_eq!(scan.next_eq(0), Some(150));
    assert_eq!(scan.next_eq(151), Some(199));
    assert_eq!(scan.next_eq(200), None);
    assert_eq!(scan.prev_nonkey(150), Some(0));
    assert_eq!(scan.prev_nonkey(0), None);
    assert_eq!(ones(&scan.eq).collect::<Vec<_>>(), [150, 199]);
}

#[test]
fn clean_frames_need_no_look_at_their_values() {
    assert!(is_clean(b"a=b c=d"));
    assert!(!is_clean(b"a=b\tc=d"));
    assert!(!is_clean(b"a=\"b\""));
    let long: Vec<u8> = [b'a'; 200].iter().chain(b"\\").copied().collect();
    assert!(!is_clean(&long));
    assert!(!is_clean(b"a=\x00"));
    let mut scan = Scan::default();
    for (text, sep, clean) in [
        (&b"a=b c=d"[..], b' ', true),
        (b"a=b\tc=d", b'\t', true),
        (b"a=b\tc=d", b' ', false),
        (b"a=\"b\"", b'\t', false),
        (&long, b' ', false),
        (b"a=\x01b", 0x01, true),
        (b"a=\x01b", b' ', false),
    ] {
        scan.run(text, sep);
        assert_eq!(scan.clean(), clean, "{text:?}");
    }
}

/// `key_bytes` against a byte-at-a-time look, for ranges within a word, across words and at the
/// text's end.
#[test]
fn key_bytes_is_every_byte_a_key_byte() {
    let mut text = vec![b'k'; 200];
    for at in [0, 63, 64, 65, 127, 128, 199] {
        text[at] = b'(';
    }
    let mut scan = Scan::default();
    scan.run(&text, b'\t');
    for from in 0..text.len() {
        for to in from + 1..=text.len() {
            let want = text[from..to].iter().all(|&b| is_key_byte(b));
            assert_eq!(scan.key_bytes(from, to), want, "{from}..{to}");
        }
    }
}

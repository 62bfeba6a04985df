//! The publishing connection's parser of what nats-server sends (`ztel::sink::nats::proto`):
//! `parse`, whose shortcut reads acknowledgements, against `parse_general`, the path that reads
//! every operation, on any input and on each operation after the one before, as the connection
//! reads them in turn.
#![no_main]

use ztel::sink::nats::proto::{parse, parse_general};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    loop {
        let rest = &data[at..];
        let parsed = parse(rest);
        assert_eq!(
            parsed,
            parse_general(rest),
            "{:?}",
            String::from_utf8_lossy(rest)
        );
        match parsed {
            Ok((_, used)) => {
                assert!(
                    used > 0 && used <= rest.len(),
                    "took {used} of {}",
                    rest.len()
                );
                at += used;
            }
            Err(_) => break,
        }
    }
});

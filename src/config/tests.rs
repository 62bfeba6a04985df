//! The config's rules, each with the key its error names.

use std::path::Path;

use super::*;

#[test]
fn the_printed_default_is_the_default_config() {
    let text = template::default_toml();
    let parsed = Config::from_toml(&text).expect("the printed default parses");
    assert_eq!(parsed, Config::default());
}

#[test]
fn every_key_of_the_printed_default_is_explained() {
    let text = template::default_toml();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let is_key = line.contains(" = ") && !line.starts_with('#');
        let is_table = line.starts_with('[');
        if is_key || is_table {
            assert!(
                i > 0 && lines[i - 1].starts_with('#'),
                "no comment above {line:?} in\n{text}"
            );
        }
    }
}

#[test]
fn empty_file_is_the_default_config() {
    assert_eq!(Config::from_toml("").unwrap(), Config::default());
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let err = Config::from_toml("shards = 1\n[limits]\nmax_frame = 5\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("max_frame"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn bad_values_name_their_key() {
    let cases = [
        ("[input.tcp]\naddress = \"nope\"", "input.tcp.address"),
        (
            "[input.udp]\nallowed_ips = [\"10.0.0.0/33\"]",
            "input.udp.allowed_ips",
        ),
        ("feed_timezone = \"Mars/Olympus\"", "feed_timezone"),
        (
            "[input.http]\nfeed_timezone = \"Mars/Olympus\"",
            "input.http.feed_timezone",
        ),
        (
            "[input.udp]\nfeed_timezone = \"+25:00\"",
            "input.udp.feed_timezone",
        ),
        ("[limits]\nmax_frame_bytes = 10", "limits.max_frame_bytes"),
        ("[input.tls]\ncert = \"a.pem\"", "input.tls.cert"),
        ("[admin]\naddress = \"localhost\"", "admin.address"),
        ("[input.http]\ncert = \"a.pem\"", "input.http.cert"),
        ("[input.http]\nheader = \"X Key\"", "input.http.header"),
        ("[input.http]\nheader = \"\"", "input.http.header"),
        ("[input.http]\nkeys = [\"\"]", "input.http.keys"),
        ("[input.http]\nkeys = [\" k1\"]", "input.http.keys"),
        ("[input.http]\nkeys = [\"k\\u0001\"]", "input.http.keys"),
        (
            "[input.http]\naddress = \"127.0.0.1:1514\"",
            "input.http.address",
        ),
    ];
    for (text, key) in cases {
        let msg = Config::from_toml(text).unwrap_err().to_string();
        assert!(msg.starts_with(key), "{text:?} gave {msg}");
    }
}

#[test]
fn wrong_type_is_a_syntax_error_with_line() {
    let msg = Config::from_toml("\n\nshards = \"two\"")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("line 3"), "{msg}");
}

#[test]
fn relative_outputs_live_in_data_dir() {
    let c = Config::default();
    assert_eq!(
        c.output_path("connections.jsonl"),
        Path::new("ztel-data/connections.jsonl")
    );
    assert_eq!(c.output_path("/var/log/x"), Path::new("/var/log/x"));
}

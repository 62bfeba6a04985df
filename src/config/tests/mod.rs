//! The config's rules, each with the key its error names.

use std::path::Path;

use super::*;

mod outputs;

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
            "[input.http]\naddress = \"127.0.0.1:1514\"\nplain = true",
            "input.http.address",
        ),
        // An HTTP or TLS input that listens needs a certificate, unless plain on purpose.
        (
            "[input.http]\naddress = \"127.0.0.1:8443\"",
            "input.http.cert",
        ),
        (
            "[input.http]\nplain = true\ncert = \"a.pem\"\nkey = \"b.pem\"",
            "input.http.plain",
        ),
        (
            "[input.tls]\naddress = \"127.0.0.1:7514\"",
            "input.tls.address",
        ),
        // One file for two outputs, however it is spelled.
        (
            "[output]\ndevices = \"connections.jsonl\"",
            "output.records",
        ),
        (
            "data_dir = \"/var/lib/ztel\"\n[output]\nrecords = \"/var/lib/ztel/dead-letter.jsonl\"",
            "output.records",
        ),
        ("[histograms]\nlog = \"devices.jsonl\"", "output.devices"),
        (
            "[histograms]\ninterval_secs = 0",
            "histograms.interval_secs",
        ),
        // No interval was ever logged, where every other duration is bounded at a year.
        (
            "[histograms]\ninterval_secs = 9223372036854775807",
            "histograms.interval_secs",
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
fn a_file_that_ends_where_a_value_should_be_says_so() {
    // toml's message is empty there: the line was `t.toml: line 2: ` and nothing else.
    for text in [
        "[input.tcp]\naddress = ",
        "[input.tcp]\naddress = \"127.0.0.1:1514",
    ] {
        let msg = Config::from_toml(text).unwrap_err().to_string();
        let (_, said) = msg.split_once("line 2: ").unwrap_or(("", ""));
        assert!(!said.trim().is_empty(), "{text:?} gave {msg:?}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_named_in_a_config_files_words() {
    for (text, said) in [
        (
            "[limits]\nmax_connections = -3\n",
            "expected a whole number of 0 or more",
        ),
        ("[input]\ntcp = 5\n", "expected a table"),
        (
            "[histograms]\ninterval_secs = \"x\"\n",
            "expected a whole number of 0 or more",
        ),
        (
            "[input.tcp]\nallowed_ips = \"1.2.3.4\"\n",
            "expected a list ([...])",
        ),
    ] {
        let msg = Config::from_toml(text).unwrap_err().to_string();
        assert!(msg.ends_with(said), "{text:?} gave {msg}");
        assert!(!msg.contains("usize") && !msg.contains("struct"), "{msg}");
    }
    // What serde says in words already is kept.
    let msg = Config::from_toml("[input.tcp]\naddress = 5\n")
        .unwrap_err()
        .to_string();
    assert!(msg.ends_with("expected a string"), "{msg}");
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

#[test]
fn a_type_error_and_a_network_with_host_bits_name_their_key() {
    let err = Config::from_toml("shards = \"two\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("shards: line 1:"), "{err}");
    let err = Config::from_toml("[input.tcp]\nallowed_ips = [\"10.0.0.1/8\"]\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("input.tcp.allowed_ips[0]:"), "{err}");
    assert!(err.contains("host bits"), "{err}");
}

#[test]
fn more_shards_than_cores_is_said() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let fits = Config::from_toml(&format!("shards = {cores}\n")).unwrap();
    assert!(fits.warnings().is_empty(), "{:?}", fits.warnings());
    let over = Config::from_toml(&format!("shards = {}\n", cores * 32)).unwrap();
    let warnings = over.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with(&format!("shards = {} is more than", cores * 32)));
}

#[test]
fn warnings_name_an_empty_allow_list_and_plain_http_with_keys() {
    assert!(Config::default().warnings().is_empty());
    let config = Config::from_toml(
        "[input.udp]\nallowed_ips = []\n\
         [input.http]\naddress = \"127.0.0.1:0\"\nplain = true\nkeys = [\"k\"]\n",
    )
    .unwrap();
    let warnings = config.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("input.udp.allowed_ips is empty"));
    assert!(warnings[1].starts_with("input.http: plain HTTP with keys"));
    // Turned off, an input's empty list says nothing.
    let off = Config::from_toml("[input.udp]\naddress = \"\"\nallowed_ips = []\n").unwrap();
    assert!(off.warnings().is_empty());
    let none =
        Config::from_toml("[input.tcp]\naddress = \"\"\n[input.udp]\naddress = \"\"\n").unwrap();
    assert_eq!(none.warnings().len(), 1);
    assert!(none.warnings()[0].starts_with("input: no input is on"));
    // HTTP on without keys refuses every request: said at the start and at a reload alike.
    let keyless =
        Config::from_toml("[input.http]\naddress = \"127.0.0.1:0\"\nplain = true\n").unwrap();
    let warnings = keyless.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("input.http.keys is empty"));
}

#[test]
fn a_section_with_only_some_keys_keeps_the_defaults_of_the_others() {
    // `[input.tcp]` with only allowed_ips used to turn the TCP input off (its address defaulted
    // to ""), and `serve` then ran with no listener.
    let config = Config::from_toml(
        "[input.tcp]\nallowed_ips = [\"10.0.0.0/8\"]\n[input.udp]\nfeed_timezone = \"UTC\"\n\
         [input.tls]\nallowed_ips = []\n[input.http]\nkeys = [\"k\"]\n[admin]\n[output]\n",
    )
    .unwrap();
    let d = Config::default();
    assert_eq!(config.input.tcp.address, d.input.tcp.address);
    assert_eq!(config.input.udp.address, d.input.udp.address);
    assert_eq!(config.input.tls.address, d.input.tls.address);
    assert_eq!(config.input.http.address, d.input.http.address);
    assert_eq!(config.admin, d.admin);
    assert_eq!(config.output, d.output);
}

#[test]
fn stream_inputs_that_share_a_port_are_refused() {
    // TCP and TLS on one address passed, and SO_REUSEPORT then split that port's connections
    // between them: a plain sender that landed on the TLS listener lost its records.
    let tls = |address: &str| {
        format!("[input.tls]\naddress = \"{address}\"\ncert = \"c.pem\"\nkey = \"k.pem\"\n")
    };
    let tcp = |address: &str| format!("[input.tcp]\naddress = \"{address}\"\n");
    let http = |address: &str| format!("[input.http]\naddress = \"{address}\"\nplain = true\n");
    let refused = [
        (
            tcp("127.0.0.1:15140") + &tls("127.0.0.1:15140"),
            "input.tls.address",
        ),
        // A wildcard address takes the port on every address, the specific one's included.
        (
            tcp("127.0.0.1:15140") + &tls("0.0.0.0:15140"),
            "input.tls.address",
        ),
        (
            tcp("[::]:15140") + &tls("127.0.0.1:15140"),
            "input.tls.address",
        ),
        (
            tls("127.0.0.1:15140") + &http("127.0.0.1:15140"),
            "input.http.address",
        ),
        (
            tcp("0.0.0.0:15140") + &http("127.0.0.1:15140"),
            "input.http.address",
        ),
        // An IPv4-mapped IPv6 address is its IPv4 address on a dual-stack socket.
        (
            tcp("127.0.0.1:15140") + &tls("[::ffff:127.0.0.1]:15140"),
            "input.tls.address",
        ),
        // The admin endpoint's port: passed the check, and the start then failed naming TCP.
        (
            tcp("0.0.0.0:15140") + "[admin]\naddress = \"127.0.0.1:15140\"\n",
            "admin.address",
        ),
    ];
    for (text, key) in refused {
        let msg = Config::from_toml(&text).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("{key}: ")), "{text:?} gave {msg}");
        assert!(msg.contains("15140") && !msg.contains('\n'), "{msg}");
    }
    let accepted = [
        tcp("127.0.0.1:15140") + &tls("127.0.0.1:15141"),
        tcp("127.0.0.1:15140") + &tls("127.0.0.2:15140"),
        // Port 0: each input gets a port of its own.
        tcp("127.0.0.1:0") + &tls("127.0.0.1:0") + &http("127.0.0.1:0"),
        // TLS without a certificate is off at its default address, whatever TCP listens on.
        tcp("0.0.0.0:6514"),
        // 0.0.0.0 takes IPv4's addresses only.
        tcp("0.0.0.0:15140") + &tls("[::1]:15140"),
        // UDP is another protocol: the default shares TCP's port.
        "[input.udp]\naddress = \"0.0.0.0:1514\"\n".to_owned(),
    ];
    for text in accepted {
        if let Err(e) = Config::from_toml(&text) {
            panic!("{text:?} was refused: {e}");
        }
    }
}

#[test]
fn durations_are_bounded_to_a_year() {
    // 9223372036854775807 ("never") passed, and the first connection's timer overflowed its
    // Instant: glommio panicked and the collector aborted.
    for (text, key) in [
        (
            "[limits]\nidle_timeout_secs = 9223372036854775807",
            "limits.idle_timeout_secs",
        ),
        (
            "[limits]\nidle_timeout_secs = 31536001",
            "limits.idle_timeout_secs",
        ),
        // Sent to JetStream as i64 nanoseconds, which this many seconds wraps.
        (
            "[output.nats]\nurl = \"nats://127.0.0.1:4222\"\nduplicate_window_secs = 10000000000",
            "output.nats.duplicate_window_secs",
        ),
        // With NATS off too: `config check` passed it until the day NATS was turned on.
        (
            "[output.nats]\nduplicate_window_secs = 99999999999",
            "output.nats.duplicate_window_secs",
        ),
    ] {
        let msg = Config::from_toml(text).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("{key}: ")), "{text:?} gave {msg}");
        assert!(msg.contains("31536000"), "{msg}");
    }
    let year = "[limits]\nidle_timeout_secs = 31536000\n[output.nats]\n\
                url = \"nats://127.0.0.1:4222\"\nduplicate_window_secs = 31536000\n";
    Config::from_toml(year).expect("a year is accepted");
}

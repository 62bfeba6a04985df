//! `Plan::new` against combinations of flags, sensible and not.

use clap::Parser;

use super::*;

fn plan(extra: &[&str]) -> Result<Plan> {
    let mut argv = vec!["loadgen", "--target", "127.0.0.1:1514", "--count", "10"];
    argv.extend_from_slice(extra);
    Plan::new(Args::try_parse_from(argv)?)
}

#[test]
fn hosts() {
    assert_eq!(host_of("collector.example:1514"), "collector.example");
    assert_eq!(host_of("[::1]:6514"), "::1");
    assert_eq!(host_of("127.0.0.1:1514"), "127.0.0.1");
}

#[test]
fn tls_name_is_localhost_for_an_ip() {
    let dir = std::env::temp_dir();
    let ca = dir.join("loadgen-args-ca.pem");
    let p = plan(&["--proto", "tls", "--ca", ca.to_str().unwrap()]).unwrap();
    assert_eq!(p.server_name, "localhost");
}

#[test]
fn flags_of_the_synthetic_sources_are_refused_with_a_file() {
    // They were taken without a word, and changed nothing.
    let file = std::env::temp_dir().join(format!("loadgen-plan-{}.txt", std::process::id()));
    std::fs::write(&file, "{\"a\":1}\n").unwrap();
    let source = file.to_str().unwrap();
    for flag in ["--devices", "--users", "--servers", "--seed"] {
        let e = plan(&["--source", source, flag, "7"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("{flag} applies to the synthetic")),
            "{e}"
        );
    }
    assert!(plan(&["--source", source]).is_ok());
    assert!(plan(&["--devices", "7"]).is_ok());
    std::fs::remove_file(&file).unwrap();
}

/// Says why `extra` is refused. Each refusal is checked by its message: a bare error would
/// also be clap's for a flag renamed or mistyped, and the check would pass without the rule.
fn refused(extra: &[&str]) -> String {
    match plan(extra) {
        Ok(_) => panic!("{extra:?} was taken"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn combinations_that_make_no_sense_are_refused() {
    for (extra, why) in [
        (
            &["--proto", "udp", "--framing", "octet"][..],
            "--framing octet applies to tcp and tls",
        ),
        (&["--proto", "tls"], "--proto tls needs --ca FILE"),
        (&["--ca", "x.pem"], "--ca applies to --proto tls and http"),
        (
            &["--source", "lss", "--dialect", "elastic"],
            "--dialect applies to --source nss only",
        ),
        (
            &["--http-key", "k"],
            "--http-key applies to --proto http only",
        ),
        (
            &["--proto", "tls", "--ca", "x.pem", "--batch", "10"],
            "--batch applies to --proto http",
        ),
    ] {
        let e = refused(extra);
        assert!(e.contains(why), "{extra:?}: {e}");
    }
}

#[test]
fn http_needs_a_key_and_takes_defaults() {
    let e = plan(&["--proto", "http"]).unwrap_err().to_string();
    assert!(e.contains("--http-key"), "{e}");
    assert_eq!(e.lines().count(), 1);
    let p = plan(&["--proto", "http", "--http-key", "k1"]).unwrap();
    assert_eq!(
        p.http,
        Some(HttpPlan {
            host: "127.0.0.1:1514".to_string(),
            path: "/".to_string(),
            header: "X-Ztel-Key".to_string(),
            key: "k1".to_string(),
            batch: 100,
            batch_bytes: 512 << 10,
            array: true,
            gzip: false,
        })
    );
    assert!(
        p.describe().starts_with("http to 127.0.0.1:1514"),
        "{}",
        p.describe()
    );
    let p = plan(&[
        "--proto",
        "http",
        "--http-key",
        "k1",
        "--http-header",
        "Authorization-Key",
        "--http-path",
        "/nss/web?feed=1",
        "--batch",
        "7",
        "--ca",
        "ca.pem",
    ])
    .unwrap();
    let h = p.http.as_ref().unwrap();
    assert_eq!(
        (h.header.as_str(), h.path.as_str(), h.batch),
        ("Authorization-Key", "/nss/web?feed=1", 7)
    );
    assert!(p.describe().starts_with("https to"), "{}", p.describe());
}

#[test]
fn http_refuses_what_it_cannot_send() {
    let http = |extra: &[&str]| {
        let mut argv = vec!["--proto", "http", "--http-key", "k1"];
        argv.extend_from_slice(extra);
        plan(&argv).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(http(&["--framing", "octet"])
        .unwrap_err()
        .contains("JSON arrays"));
    assert!(http(&["--framing", "lf"]).is_ok());
    assert!(http(&["--dialect", "sekoia"])
        .unwrap_err()
        .contains("sekoia"));
    // Without its header, the Sekoia template is a JSON object like the others.
    assert!(http(&["--dialect", "sekoia", "--header", "none"]).is_ok());
    for header in ["3164", "5424"] {
        assert!(http(&["--header", header])
            .unwrap_err()
            .contains("--header none"));
        // Lines carry a header, as the collector reads them.
        assert!(http(&["--header", header, "--http-array", "false"]).is_ok());
    }
    assert!(http(&["--dialect", "sekoia", "--http-array", "false"]).is_ok());
    assert!(http(&["--dialect", "elastic"]).is_ok());
    assert!(http(&["--source", "lss"]).is_ok());
    for (extra, why) in [
        (
            &["--http-header", "X Key"][..],
            "is not an HTTP header name",
        ),
        (&["--http-header", "X-Key:"], "is not an HTTP header name"),
        (&["--http-path", "nss"], "must start with /"),
        (&["--http-path", "/a b"], "hold no spaces"),
        (&["--batch", "0"], "0 is not in 1..="),
        (&["--batch-bytes", "100"], "100 is not in 1024..="),
    ] {
        let e = http(extra).unwrap_err();
        assert!(e.contains(why), "{extra:?}: {e}");
    }
    for (extra, why) in [
        (
            &["--proto", "tcp", "--batch-bytes", "4096"][..],
            "--batch-bytes applies to --proto http",
        ),
        (
            &["--proto", "http", "--http-key", ""],
            "--http-key must be printable ASCII",
        ),
        (
            &["--proto", "http", "--http-key", "k\r\nX-Evil: 1"],
            "--http-key must be printable ASCII",
        ),
        (
            &["--proto", "http", "--http-key", " k"],
            "must not start or end with a space",
        ),
    ] {
        let e = refused(extra);
        assert!(e.contains(why), "{extra:?}: {e}");
    }
}

#[test]
fn events_of_a_timed_run() {
    let p = Plan::new(
        Args::try_parse_from([
            "loadgen",
            "--target",
            "127.0.0.1:1",
            "--rate",
            "1000",
            "--duration",
            "2.5",
        ])
        .unwrap(),
    )
    .unwrap();
    assert_eq!(p.events(), Some(2500));
    assert_eq!(p.deadline(), None);
    let p = Plan::new(
        Args::try_parse_from(["loadgen", "--target", "127.0.0.1:1", "--duration", "3"]).unwrap(),
    )
    .unwrap();
    assert_eq!(p.events(), None);
    assert_eq!(p.deadline(), Some(Duration::from_secs(3)));
}

#[test]
fn sources_and_formats() {
    let source = |extra: &[&str]| plan(extra).map(|p| p.source);
    assert_eq!(source(&[]).unwrap(), Source::Nss(Dialect::Ztel));
    assert_eq!(source(&["--source", "fw"]).unwrap(), Source::Fw);
    assert_eq!(source(&["--source", "dns"]).unwrap(), Source::Dns);
    assert_eq!(source(&["--source", "lss"]).unwrap(), Source::Lss);
    assert_eq!(
        source(&["--source", "./fw"]).unwrap(),
        Source::File("./fw".into())
    );
    assert_eq!(
        source(&["--dialect", "elastic"]).unwrap(),
        Source::Nss(Dialect::Elastic)
    );
    assert_eq!(
        source(&["--format", "json", "--dialect", "sekoia"]).unwrap(),
        Source::Nss(Dialect::Sekoia)
    );
    for (format, dialect) in [
        ("leef", Dialect::Leef),
        ("cef", Dialect::Cef),
        ("kv", Dialect::Kv),
        ("csv", Dialect::Csv),
    ] {
        assert_eq!(source(&["--format", format]).unwrap(), Source::Nss(dialect));
        assert_eq!(
            source(&["--format", format, "--proto", "udp"]).unwrap(),
            Source::Nss(dialect)
        );
    }
    // JSON is what every source is, so saying so is no error.
    assert_eq!(
        source(&["--source", "dns", "--format", "json"]).unwrap(),
        Source::Dns
    );
}

#[test]
fn formats_that_cannot_be_sent_are_refused() {
    let refused = |extra: &[&str]| plan(extra).unwrap_err().to_string();
    let e = refused(&["--format", "leef", "--dialect", "elastic"]);
    assert!(e.contains("--dialect") && e.contains("leef"), "{e}");
    let e = refused(&[
        "--format",
        "cef",
        "--proto",
        "http",
        "--http-key",
        "k",
        "--http-array",
        "true",
    ]);
    assert!(e.contains("as lines"), "{e}");
    let lines = plan(&["--format", "cef", "--proto", "http", "--http-key", "k"]).unwrap();
    assert!(
        !lines.http.unwrap().array,
        "a format other than JSON goes as lines"
    );
    for source in ["fw", "dns", "lss", "feed.log"] {
        let e = refused(&["--format", "kv", "--source", source]);
        assert!(e.contains("--source nss only"), "{source}: {e}");
    }
    let e = refused(&["--source", "fw", "--dialect", "elastic"]);
    assert!(e.contains("--dialect applies to --source nss only"), "{e}");
    assert_eq!(
        refused(&["--source", ""]),
        "--source is empty: give nss, fw, dns, lss or a file"
    );
}

#[test]
fn gzip_is_for_http_only() {
    for proto in ["tcp", "udp"] {
        let e = plan(&["--gzip", "--proto", proto]).unwrap_err().to_string();
        assert_eq!(e, "--gzip applies to --proto http only");
    }
    let p = plan(&["--gzip", "--proto", "http", "--http-key", "k"]).unwrap();
    assert!(p.http.as_ref().unwrap().gzip);
    assert!(
        p.describe()
            .ends_with("gzipped JSON arrays of up to 100 events and 524288 bytes to /"),
        "{}",
        p.describe()
    );
}

#[test]
fn the_summary_names_source_and_format() {
    let describe = |extra: &[&str]| plan(extra).unwrap().describe();
    assert_eq!(
        describe(&[]),
        "tcp to 127.0.0.1:1514, 1 connection(s), source nss, format json (ztel template), \
         rate max, lf framing"
    );
    assert!(
        describe(&["--format", "csv", "--proto", "udp"])
            .contains(", source nss, format csv, rate max, datagrams"),
        "{}",
        describe(&["--format", "csv"])
    );
    assert!(describe(&["--source", "fw"]).contains(", source fw, format json, "));
    assert!(describe(&["--source", "dns"]).contains(", source dns, format json, "));
    assert!(describe(&["--source", "f.log"]).contains(", source f.log, format as in the file, "));
}

#[test]
fn churn_is_for_synthetic_sources_and_at_least_one() {
    assert_eq!(plan(&[]).unwrap().churn, 0);
    for source in ["nss", "fw", "dns", "lss"] {
        let p = plan(&["--source", source, "--churn", "5"]).unwrap();
        assert_eq!(p.churn, 5);
        assert!(p
            .describe()
            .contains(&format!("source {source} (churn every 5 records)")));
    }
    let e = plan(&["--source", "f.log", "--churn", "5"])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--churn applies to the synthetic sources"),
        "{e}"
    );
    assert!(plan(&["--churn", "0"]).is_err());
}

#[test]
fn header_is_for_synthetic_sources_and_composes_with_the_rest() {
    assert_eq!(plan(&[]).unwrap().header, None);
    for (source, format) in [
        ("nss", "json"),
        ("nss", "leef"),
        ("nss", "csv"),
        ("fw", "json"),
        ("dns", "json"),
        ("lss", "json"),
    ] {
        let p = plan(&[
            "--source",
            source,
            "--format",
            format,
            "--header",
            "5424",
            "--churn",
            "4",
            "--devices",
            "10000",
            "--proto",
            "udp",
        ])
        .unwrap();
        assert_eq!(p.header, Some(HeaderArg::Rfc5424));
        assert!(p
            .describe()
            .contains("(churn every 4 records), syslog header 5424"));
        assert!(p.result_params(0).contains(" header=5424 "));
    }
    assert!(plan(&["--dialect", "sekoia"])
        .unwrap()
        .result_params(0)
        .contains(" header=template "));
    // Regression: `format=json (ztel template)` broke the line's split into key=value pairs.
    for (flag, value, format) in [
        ("--dialect", "ztel", "json-ztel"),
        ("--dialect", "elastic", "json-elastic"),
        ("--dialect", "sekoia", "json-sekoia"),
        ("--format", "leef", "leef"),
        ("--format", "cef", "cef"),
        ("--format", "kv", "kv"),
        ("--format", "csv", "csv"),
    ] {
        let params = plan(&[flag, value]).unwrap().result_params(0);
        assert!(params.split(' ').all(|kv| kv.contains('=')), "{params}");
        assert!(params.contains(&format!(" format={format} ")), "{params}");
    }
    let e = plan(&["--source", "f.log", "--header", "none"])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--header applies to the synthetic sources"),
        "{e}"
    );
    assert!(plan(&["--header", "3339"]).is_err());
}

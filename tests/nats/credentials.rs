//! Credentials as `nsc` issues them: a server in operator mode takes a user of an account it
//! knows, and refused, missing or malformed credentials stop the start in one line. The JWTs
//! and nkeys are made here, so no `nsc` is needed.

use std::path::PathBuf;

use serde_json::json;

use crate::common::TempDir;
use crate::server::{installed, Server};
use crate::support::{comes_true, lines, lines_naming, metric, serve_once, start_configured};

/// A credentials file as `nsc` writes it: a JWT, then the user's nkey seed.
fn creds_file(dir: &TempDir, jwt: &str, seed: &str) -> PathBuf {
    dir.write(
        "user.creds",
        &format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        ),
    )
}

/// A NATS JWT as `nsc` makes one: `nats` claims about `subject`, signed by `issuer`.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, nats: serde_json::Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = json!({
        "jti": format!("{:016x}", xxhash_rust::xxh3::xxh3_64(subject.as_bytes())),
        "iat": 1_700_000_000,
        "iss": issuer.public_key(),
        "name": "ztel-test",
        "sub": subject,
        "nats": nats,
    });
    let signed = format!("{header}.{}", b64.encode(claims.to_string()));
    let signature = issuer.sign(signed.as_bytes()).expect("sign");
    format!("{signed}.{}", b64.encode(signature))
}

#[test]
fn refused_credentials_stop_the_start_in_one_line() {
    let dir = TempDir::new("nats-creds");
    if !installed() {
        return;
    }
    let conf = dir.write(
        "nats.conf",
        "authorization {\n  user: ztel\n  password: right\n}\n",
    );
    let server = Server::on(0, dir.path().join("nats-store"), Some(conf));
    // Well-formed credentials the server does not accept.
    let seed = nkeys::KeyPair::new_user().seed().expect("seed");
    let creds = creds_file(
        &dir,
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5In0.e30.c2ln",
        &seed,
    );
    let (ok, stderr) = serve_once(
        &dir,
        &server.url(),
        &format!("creds = \"{}\"", creds.display()),
    );
    assert!(!ok, "the start fails");
    let errors = lines_naming(&stderr, "output.nats");
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    assert!(errors[0].contains("refused"), "{stderr}");
    assert!(errors[0].contains(&creds.display().to_string()), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.contains("ERROR")),
        "the error is said once, not by the client as well: {stderr}"
    );
    // No credentials where the server wants some: the same, with a hint.
    let (ok, stderr) = serve_once(&dir, &server.url(), "");
    assert!(!ok);
    assert!(stderr.contains("output.nats.creds"), "{stderr}");
    // A file that is not a credentials file: named, before any connection.
    let junk = dir.write("junk.creds", "not credentials\n");
    let (ok, stderr) = serve_once(
        &dir,
        &server.url(),
        &format!("creds = \"{}\"", junk.display()),
    );
    assert!(!ok);
    let errors = lines_naming(&stderr, "output.nats.creds");
    assert_eq!(errors.len(), 1, "{stderr}");
    eprintln!("{}", errors[0]);
}

#[test]
fn accepted_credentials_publish_and_merge() {
    let dir = TempDir::new("nats-creds-ok");
    if !installed() {
        return;
    }
    // A server in operator mode, as a deployment with nsc-issued credentials runs: an operator,
    // its system account (JetStream needs one), an account with JetStream, and a user of that
    // account whose credentials ztel is given.
    let (operator, system, account, user) = (
        nkeys::KeyPair::new_operator(),
        nkeys::KeyPair::new_account(),
        nkeys::KeyPair::new_account(),
        nkeys::KeyPair::new_user(),
    );
    let unlimited = json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
        "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1
    });
    let operator_jwt = jwt(
        &operator,
        &operator.public_key(),
        json!({"type": "operator", "version": 2}),
    );
    let system_jwt = jwt(
        &operator,
        &system.public_key(),
        json!({"type": "account", "version": 2}),
    );
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        json!({"type": "account", "version": 2, "limits": unlimited}),
    );
    let user_jwt = jwt(
        &account,
        &user.public_key(),
        json!({
            "type": "user", "version": 2, "pub": {}, "sub": {},
            "subs": -1, "data": -1, "payload": -1
        }),
    );
    let conf = dir.write(
        "nats.conf",
        &format!(
            "operator: {operator_jwt:?}\nsystem_account: {sys}\nresolver: MEMORY\n\
             resolver_preload: {{\n  {sys}: {system_jwt:?}\n  {}: {account_jwt:?}\n}}\n",
            account.public_key(),
            sys = system.public_key()
        ),
    );
    let server = Server::on(0, dir.path().join("nats-store"), Some(conf));
    let creds = creds_file(&dir, &user_jwt, &user.seed().expect("seed"));
    let c = start_configured(
        "nats-creds-ok",
        &server.url(),
        &format!("creds = {:?}", creds.display().to_string()),
        None,
    );
    c.send(&lines(50));
    assert!(
        comes_true(|| {
            metric(&c, "ztel_nats_acknowledged_total") >= 50.0
                && metric(&c, "ztel_nats_registry_merges_total") >= 1.0
        }),
        "published and merged with the user's credentials"
    );
    c.stop();
    // The server checks them: a user of an account it does not know is refused at start.
    let stranger = nkeys::KeyPair::new_account();
    let forged = jwt(
        &stranger,
        &user.public_key(),
        json!({"type": "user", "version": 2, "pub": {}, "sub": {}}),
    );
    let other = TempDir::new("nats-creds-forged");
    let creds = creds_file(&other, &forged, &user.seed().expect("seed"));
    let (ok, stderr) = serve_once(
        &other,
        &server.url(),
        &format!("creds = {:?}", creds.display().to_string()),
    );
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
}

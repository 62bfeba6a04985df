//! What a SIGHUP changes. Certificates, allow-lists and the HTTP input's keys are swapped in
//! while the collector runs (`input::live`); every other key is read once, at start. A reload
//! names the keys whose change waits for a restart, so that an edit is never silently ignored.

use super::Config;

/// The keys a reload always applies.
const RELOADED: &[&str] = &[
    "input.tcp.allowed_ips",
    "input.udp.allowed_ips",
    "input.tls.allowed_ips",
    "input.http.allowed_ips",
    "input.http.header",
    "input.http.keys",
];

/// The certificate keys a reload applies: only to an input that listens with TLS since its
/// start, and only a certificate that is there (a removed one leaves the old one in use).
fn certificates(running: &Config, read: &Config) -> Vec<&'static str> {
    let mut applied = Vec::new();
    if running.input.tls.listens() && !read.input.tls.cert.is_empty() {
        applied.extend(["input.tls.cert", "input.tls.key", "input.tls.client_ca"]);
    }
    if running.input.http.is_https() && !read.input.http.cert.is_empty() {
        applied.extend(["input.http.cert", "input.http.key"]);
    }
    applied
}

/// The keys (dotted, as in the file) whose values differ between `running` and `read`, apart
/// from those a reload applies: they take effect at the next start.
pub fn waiting_for_restart(running: &Config, read: &Config) -> Vec<String> {
    let (Ok(old), Ok(new)) = (toml::Value::try_from(running), toml::Value::try_from(read)) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    differ(&mut String::new(), Some(&old), Some(&new), &mut changed);
    let certificates = certificates(running, read);
    changed
        .retain(|key| !RELOADED.contains(&key.as_str()) && !certificates.contains(&key.as_str()));
    changed
}

/// Collects under `path` the leaves where `old` and `new` differ.
fn differ(
    path: &mut String,
    old: Option<&toml::Value>,
    new: Option<&toml::Value>,
    out: &mut Vec<String>,
) {
    match (old, new) {
        (Some(toml::Value::Table(a)), Some(toml::Value::Table(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let outer = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                differ(path, a.get(key), b.get(key), out);
                path.truncate(outer);
            }
        }
        (a, b) if a != b => out.push(path.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_a_reload_leaves_alone_are_named() {
        let running = Config::default();
        let mut read = running.clone();
        assert!(waiting_for_restart(&running, &read).is_empty());
        read.input.http.keys = vec!["k9".into()];
        read.input.tcp.allowed_ips = Vec::new();
        assert!(waiting_for_restart(&running, &read).is_empty());
        read.limits.max_frame_bytes = 65536;
        read.feed_timezone = "Europe/Paris".into();
        assert_eq!(
            waiting_for_restart(&running, &read),
            ["feed_timezone", "limits.max_frame_bytes"]
        );
    }

    #[test]
    fn a_certificate_is_named_unless_a_tls_input_takes_it() {
        // No TLS at start: a certificate added waits for a restart (nothing listens for it).
        let running = Config::default();
        let mut read = running.clone();
        read.input.tls.cert = "new.pem".into();
        read.input.tls.key = "new.key".into();
        assert_eq!(
            waiting_for_restart(&running, &read),
            ["input.tls.cert", "input.tls.key"]
        );
        // TLS at start: a new certificate is taken; a removed one is not (the old stays).
        let mut running = Config::default();
        running.input.tls.cert = "old.pem".into();
        running.input.tls.key = "old.key".into();
        assert!(waiting_for_restart(&running, &read).is_empty());
        let mut removed = running.clone();
        removed.input.tls.cert = String::new();
        removed.input.tls.key = String::new();
        assert_eq!(
            waiting_for_restart(&running, &removed),
            ["input.tls.cert", "input.tls.key"]
        );
        // A plain HTTP input ignores a certificate.
        let mut running = Config::default();
        running.input.http.address = "127.0.0.1:8443".parse().unwrap();
        running.input.http.plain = true;
        let mut read = running.clone();
        read.input.http.cert = "c.pem".into();
        read.input.http.key = "c.key".into();
        assert_eq!(
            waiting_for_restart(&running, &read),
            ["input.http.cert", "input.http.key"]
        );
    }
}

//! What a SIGHUP changes. Certificates, allow-lists and the HTTP input's keys are swapped in
//! while the collector runs (`input::live`); every other key is read once, at start. A reload
//! names the keys whose change waits for a restart, so that an edit is never silently ignored.

use super::Config;

/// The keys a reload applies.
const RELOADED: &[&str] = &[
    "input.tcp.allowed_ips",
    "input.udp.allowed_ips",
    "input.tls.allowed_ips",
    "input.tls.cert",
    "input.tls.key",
    "input.tls.client_ca",
    "input.http.allowed_ips",
    "input.http.cert",
    "input.http.key",
    "input.http.header",
    "input.http.keys",
];

/// The keys (dotted, as in the file) whose values differ between `running` and `read`, apart
/// from those a reload applies: they take effect at the next start.
pub fn waiting_for_restart(running: &Config, read: &Config) -> Vec<String> {
    let (Ok(old), Ok(new)) = (toml::Value::try_from(running), toml::Value::try_from(read)) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    differ(&mut String::new(), Some(&old), Some(&new), &mut changed);
    changed.retain(|key| !RELOADED.contains(&key.as_str()));
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
}

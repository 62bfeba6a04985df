//! Connecting to NATS: the options from `[output.nats]` (credentials file, CA), and what a failed
//! connection means. A refusal of the credentials or of TLS is a mistake in the config: at start
//! it stops the collector with one line, since waiting would spool for ever for a server that
//! will never accept. A server that does not answer is an outage: the collector starts, spools,
//! and connects when it can.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::{Client, ConnectErrorKind, ConnectOptions, Event, ServerAddr};

use crate::config;
use crate::config::nats_url::{self as servers, Auth};

/// Why there is no connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
    /// The config is wrong (credentials refused, CA or certificate rejected, bad URL): waiting
    /// will not help.
    #[error("{0}")]
    Refused(String),
    /// Nobody answered: an outage, or not started yet.
    #[error("{0}")]
    Unreachable(String),
}

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The options from the config. Reading a credentials file that is missing or not a
/// credentials file is refused here.
async fn options(cfg: &config::Nats) -> Result<ConnectOptions, ConnectFailure> {
    let mut options = ConnectOptions::new()
        .name(format!("ztel {}", env!("CARGO_PKG_VERSION")))
        .connection_timeout(CONNECT_TIMEOUT)
        // Reconnect for ever, soon: records wait in the spool meanwhile.
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64 * 100).clamp(100, 2000))
        });
    if !cfg.creds.is_empty() {
        options = options.credentials_file(&cfg.creds).await.map_err(|e| {
            ConnectFailure::Refused(format!(
                "output.nats.creds: {} is not a usable NATS credentials file: {e}",
                cfg.creds
            ))
        })?;
    }
    if !cfg.tls_ca.is_empty() {
        if let Err(e) = std::fs::metadata(&cfg.tls_ca) {
            return Err(ConnectFailure::Refused(format!(
                "output.nats.tls_ca: cannot read {}: {e}",
                cfg.tls_ca
            )));
        }
        options = options
            .add_root_certificates(Path::new(&cfg.tls_ca).to_owned())
            .require_tls(true);
    }
    Ok(options.event_callback(|event| async move { note(event) }))
}

/// One connection attempt.
pub async fn connect(cfg: &config::Nats) -> Result<Client, ConnectFailure> {
    let endpoints = servers::endpoints(&cfg.url)
        .map_err(|e| ConnectFailure::Refused(format!("output.nats.url: {e}")))?;
    let servers = endpoints
        .iter()
        .map(|ep| ep.server_url().parse::<ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConnectFailure::Refused(format!("output.nats.url: {e}")))?;
    // async-nats sends only the user or token of its options, never those of a URL.
    let options = options(cfg).await?;
    let options = match endpoints.first().and_then(|ep| ep.auth()) {
        Some(Auth::User { user, pass }) => options.user_and_password(user.clone(), pass.clone()),
        Some(Auth::Token(token)) => options.token(token.clone()),
        None => options,
    };
    let urls = servers::shown(&cfg.url);
    match options.connect(servers).await {
        Ok(client) => Ok(client),
        Err(e) => Err(match e.kind() {
            ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                let with = given(endpoints.first().and_then(|ep| ep.auth()), &cfg.creds);
                ConnectFailure::Refused(format!(
                    "output.nats: {urls} refused the connection {with}: {e}"
                ))
            }
            ConnectErrorKind::Io if refused_by_tls(&e) => ConnectFailure::Refused(format!(
                "output.nats: TLS with {urls} failed (output.nats.tls_ca?): {e}"
            )),
            ConnectErrorKind::Tls => ConnectFailure::Refused(format!(
                "output.nats: TLS with {urls} failed (output.nats.tls_ca?): {e}"
            )),
            ConnectErrorKind::ServerParse => {
                ConnectFailure::Refused(format!("output.nats.url: {urls:?}: {e}"))
            }
            _ => ConnectFailure::Unreachable(format!("{urls}: {e}")),
        }),
    }
}

/// What the server was given to authorize the client, for a refusal to name.
fn given(auth: Option<&Auth>, creds: &str) -> String {
    let url = match auth {
        Some(Auth::User { user, .. }) => Some(format!("the user {user} and the password")),
        Some(Auth::Token(_)) => Some("the token".to_owned()),
        None => None,
    };
    match (url, creds.is_empty()) {
        (None, true) => "without credentials (set output.nats.creds, or a user and password \
                         in output.nats.url)"
            .to_owned(),
        (None, false) => format!("with the credentials of {creds}"),
        (Some(url), true) => format!("with {url} of output.nats.url"),
        (Some(url), false) => {
            format!("with {url} of output.nats.url and the credentials of {creds}")
        }
    }
}

/// True when an I/O error is rustls refusing the handshake (a certificate the CA did not sign,
/// a name that does not match): async-nats reports those as I/O, yet no retry will help.
fn refused_by_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        cause = err.source();
    }
    false
}

/// What the control client says about its connection, in the log. The connection state and the
/// reconnects of `/metrics` are the publishing connection's (`publish`): that one carries the
/// records, and says its own changes. While the server is away the client retries every second
/// or two and reports each failure: said at the 1st, 2nd, 4th… in a row, as the publishing
/// connection's failures are, so that an outage does not write thousands of lines an hour.
fn note(event: Event) {
    static ERRORS: Streak = Streak::new();
    let say = |what: &str, e: &dyn std::fmt::Display| {
        if let Some(n) = ERRORS.hit(Instant::now()) {
            tracing::warn!("NATS: control connection: {what}: {e} ({n} in a row)");
        }
    };
    match event {
        Event::Connected => match ERRORS.end() {
            0 => tracing::debug!("NATS: control connection up"),
            n => tracing::info!("NATS: control connection up again after {n} errors"),
        },
        Event::Disconnected => tracing::debug!("NATS: control connection down"),
        Event::ServerError(e) => say("server error", &e),
        Event::ClientError(e) => say("client error", &e),
        Event::LameDuckMode => tracing::info!("NATS: the server is going away (lame duck)"),
        _ => {}
    }
}

/// Errors in a row, of which the 1st, 2nd, 4th… are worth a line. A minute without one ends the
/// row: a live connection's error days after the last (a permission the server refused) is the
/// first of its own, said, not the uncounted 5th of an old one.
struct Streak(Mutex<(u64, Option<Instant>)>);

/// Quiet that ends a row of errors: an outage's come every second or two.
const STREAK_QUIET: Duration = Duration::from_secs(60);

impl Streak {
    const fn new() -> Streak {
        Streak(Mutex::new((0, None)))
    }

    /// One more at `now`: its number when it is one to say.
    fn hit(&self, now: Instant) -> Option<u64> {
        let mut row = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (n, last) = &mut *row;
        if last.is_some_and(|at| now.saturating_duration_since(at) > STREAK_QUIET) {
            *n = 0;
        }
        *n += 1;
        *last = Some(now);
        n.is_power_of_two().then_some(*n)
    }

    /// The row is over: how long it was.
    fn end(&self) -> u64 {
        let mut row = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *row).0
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Streak;

    #[test]
    fn an_outages_errors_are_said_at_the_1st_2nd_4th_and_its_end_counts_them_all() {
        let streak = Streak::new();
        let t0 = Instant::now();
        let every_2s = |i: u64| t0 + Duration::from_secs(2 * i);
        let said: Vec<u64> = (0..1800).filter_map(|i| streak.hit(every_2s(i))).collect();
        assert_eq!(said, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
        assert_eq!(streak.end(), 1800);
        // The next outage counts from one again.
        assert_eq!(streak.hit(t0), Some(1));
        assert_eq!(streak.end(), 1);
        assert_eq!(streak.end(), 0);
    }

    #[test]
    fn an_error_after_a_quiet_minute_starts_a_row_of_its_own() {
        let streak = Streak::new();
        let t0 = Instant::now();
        assert_eq!(streak.hit(t0), Some(1));
        assert_eq!(streak.hit(t0 + Duration::from_secs(1)), Some(2));
        assert_eq!(streak.hit(t0 + Duration::from_secs(2)), None);
        // Days later, on a live connection: said, as the first.
        let later = t0 + Duration::from_secs(4 * 86_400);
        assert_eq!(streak.hit(later), Some(1));
        assert_eq!(streak.end(), 1);
    }
}

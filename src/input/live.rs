//! What SIGHUP replaces while connections stay up: the allow-lists, the TLS configurations
//! (input.tls and HTTPS) and the keys of the HTTP input.
//! Shards read them lock-free (arc-swap) at each accept or datagram; a reload builds everything
//! first and swaps only when all of it is valid, so a bad file changes nothing.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};

use super::allow::AllowList;
use super::certs::{input_server_config, server_config, TlsError, TlsServer, Unusable};
use super::http::Auth;
use crate::config::{Cidr, Config, ConfigError};

/// Why settings could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

pub struct Live {
    pub tcp_allow: Arc<ArcSwap<AllowList>>,
    pub udp_allow: Arc<ArcSwap<AllowList>>,
    pub tls_allow: Arc<ArcSwap<AllowList>>,
    /// `None` when TLS is off (no cert and key).
    pub tls: Arc<ArcSwapOption<TlsServer>>,
    pub http_allow: Arc<ArcSwap<AllowList>>,
    /// The key header and the keys of the HTTP input.
    pub http_auth: Arc<ArcSwap<Auth>>,
    /// `None` when the HTTP input is plain HTTP (no cert and key).
    pub http_tls: Arc<ArcSwapOption<TlsServer>>,
}

/// Everything a reload swaps in, built before anything is swapped.
struct Settings {
    tcp_allow: AllowList,
    udp_allow: AllowList,
    tls_allow: AllowList,
    tls: Option<Arc<TlsServer>>,
    http_allow: AllowList,
    http_auth: Auth,
    http_tls: Option<Arc<TlsServer>>,
}

/// `reload`: whether a certificate no client would take is refused (a reload, which keeps what
/// serves) or only said (a start).
fn build(config: &Config, reload: bool) -> Result<Settings, LoadError> {
    let input = &config.input;
    let unusable = |listens: bool| match (listens, reload) {
        (false, _) => Unusable::Pass,
        (true, true) => Unusable::Refuse,
        (true, false) => Unusable::Warn,
    };
    let tls = if input.tls.cert.is_empty() {
        None
    } else {
        let ca = Some(input.tls.client_ca.as_str())
            .filter(|ca| !ca.is_empty())
            .map(Path::new);
        Some(server_config(
            Path::new(&input.tls.cert),
            Path::new(&input.tls.key),
            ca,
            unusable(input.tls.listens()),
        )?)
    };
    let http_tls = if input.http.cert.is_empty() {
        None
    } else {
        Some(input_server_config(
            "input.http",
            Path::new(&input.http.cert),
            Path::new(&input.http.key),
            None,
            unusable(input.http.is_https()),
        )?)
    };
    Ok(Settings {
        tcp_allow: allow(&input.tcp.allowed_ips),
        udp_allow: allow(&input.udp.allowed_ips),
        tls_allow: allow(&input.tls.allowed_ips),
        tls,
        http_allow: allow(&input.http.allowed_ips),
        http_auth: Auth::new(&input.http),
        http_tls,
    })
}

/// An input's allow-list from its config entries.
fn allow(entries: &[Cidr]) -> AllowList {
    AllowList::new(entries.iter().map(|c| c.0).collect())
}

impl Live {
    pub fn load(config: &Config) -> Result<Live, LoadError> {
        let s = build(config, false)?;
        Ok(Live {
            tcp_allow: Arc::new(ArcSwap::from_pointee(s.tcp_allow)),
            udp_allow: Arc::new(ArcSwap::from_pointee(s.udp_allow)),
            tls_allow: Arc::new(ArcSwap::from_pointee(s.tls_allow)),
            tls: Arc::new(ArcSwapOption::new(s.tls)),
            http_allow: Arc::new(ArcSwap::from_pointee(s.http_allow)),
            http_auth: Arc::new(ArcSwap::from_pointee(s.http_auth)),
            http_tls: Arc::new(ArcSwapOption::new(s.http_tls)),
        })
    }

    /// Whether a reload would take `config`: `config check` judges as a reload does, which
    /// refuses a certificate no client would take (a start only says so).
    pub fn check(config: &Config) -> Result<(), LoadError> {
        build(config, true).map(drop)
    }

    /// Swaps in the allow-lists and certificates of `config`. New connections see the new
    /// settings; established ones keep their session, and are asked again at their next read
    /// whether the new allow-list and client CA still admit them (`admission`).
    pub fn reload(&self, config: &Config) -> Result<(), LoadError> {
        let s = build(config, true)?;
        self.tcp_allow.store(Arc::new(s.tcp_allow));
        self.udp_allow.store(Arc::new(s.udp_allow));
        self.tls_allow.store(Arc::new(s.tls_allow));
        if s.tls.is_some() {
            self.tls.store(s.tls);
        }
        self.http_allow.store(Arc::new(s.http_allow));
        self.http_auth.store(Arc::new(s.http_auth));
        // Whether the HTTP input speaks TLS is fixed at start: a reload replaces the certificate
        // of an HTTPS input, and is ignored by a plain one.
        if s.http_tls.is_some() {
            self.http_tls.store(s.http_tls);
        }
        Ok(())
    }

    /// When the certificates serving the TLS and HTTPS inputs expire, and the last CA of the TLS
    /// input's client CA file, for `/metrics`: of an input that listens, as they were read to
    /// build what serves (a reload without a server certificate keeps serving the one it had,
    /// whose time stays). Mutual TLS off takes the client CA's series away.
    pub fn note_expiry(&self, slots: &[AtomicI64; 3], config: &Config) {
        let input = &config.input;
        let tls = self.tls.load();
        let tls = tls.as_deref().filter(|_| input.tls.listens());
        let http = self.http_tls.load();
        let http = http.as_deref().filter(|_| input.http.is_https());
        let times = [
            tls.map(|s| s.expires),
            http.map(|s| s.expires),
            Some(tls.and_then(|s| s.cas_expire)),
        ];
        for (slot, at) in slots.iter().zip(times) {
            if let Some(at) = at {
                slot.store(at.unwrap_or(0), Ordering::Relaxed);
            }
        }
    }
}

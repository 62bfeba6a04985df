//! Whether an open connection's peer is still admitted once a reload has changed what admits
//! it: its input's allow-list and, on input.tls with mutual TLS, the client CA its certificate
//! was checked against at the handshake. An operator who takes an address or a CA away means
//! the peers it admitted, not only new ones. Each is asked again at the first read after a
//! reload swapped it in; otherwise a read costs a lock-free load and a pointer comparison each.

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use rustls::pki_types::CertificateDer;

use super::allow::AllowList;
use super::certs::TlsServer;

/// Why a reload took a connection's admission away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The peer's address is no longer in the input's allow-list.
    Address,
    /// The input's TLS configuration no longer takes the client's certificate: why, in words,
    /// and the certificate's subject (`None` when it showed none), for the log.
    Certificate {
        why: String,
        subject: Option<String>,
    },
}

/// What admits one connection's peer, and what it was last asked against.
pub struct Admission<'a> {
    allow: &'a ArcSwap<AllowList>,
    /// The allow-list the peer was last asked against (held, so that a later one cannot take
    /// its address). `None` at first: a reload while the connection waited for its slot or its
    /// TLS handshake is asked at the first read.
    allowed_by: Option<Arc<AllowList>>,
    tls: Option<Trust<'a>>,
}

/// A TLS input's configuration in force, and the one that last admitted the client.
struct Trust<'a> {
    served: &'a ArcSwapOption<TlsServer>,
    checked: Arc<TlsServer>,
}

impl<'a> Admission<'a> {
    pub fn new(allow: &'a ArcSwap<AllowList>) -> Admission<'a> {
        Admission {
            allow,
            allowed_by: None,
            tls: None,
        }
    }

    /// On TLS: `handshake` is the configuration the handshake ran with, which checked the
    /// client's certificate then.
    pub fn with_tls(
        self,
        served: &'a ArcSwapOption<TlsServer>,
        handshake: Arc<TlsServer>,
    ) -> Admission<'a> {
        Admission {
            tls: Some(Trust {
                served,
                checked: handshake,
            }),
            ..self
        }
    }

    /// Asks again whatever a reload swapped in since the last call. `chain` is the client's
    /// certificates as shown at the handshake (its own first), `None` if it showed none.
    pub fn check(
        &mut self,
        peer: IpAddr,
        chain: Option<&[CertificateDer<'_>]>,
    ) -> Result<(), Refusal> {
        let current = self.allow.load();
        if !self
            .allowed_by
            .as_ref()
            .is_some_and(|a| Arc::ptr_eq(&current, a))
        {
            let now = arc_swap::Guard::into_inner(current);
            let admitted = now.admits(peer);
            self.allowed_by = Some(now);
            if !admitted {
                return Err(Refusal::Address);
            }
        }
        let Some(trust) = &mut self.tls else {
            return Ok(());
        };
        let served = trust.served.load();
        // A TLS input keeps a configuration across reloads (none is never swapped in).
        let Some(now) = served.as_ref() else {
            return Ok(());
        };
        if Arc::ptr_eq(now, &trust.checked) {
            return Ok(());
        }
        let now = now.clone();
        let admitted = now.admits(chain);
        trust.checked = now;
        admitted.map_err(|why| Refusal::Certificate {
            why,
            subject: chain.and_then(|c| c.first()).map(super::certs::subject),
        })
    }
}

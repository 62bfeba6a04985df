//! What ztel tells systemd when it runs as a `Type=notify` service (sd_notify(3)): ready once
//! every input listens, stopping when the drain begins, and watchdog pings from the aggregator's
//! loop. Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

/// Every input listens: `systemctl start` returns and units ordered after ztel may start.
/// `status` is what `systemctl status` shows beside the unit.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// The drain has begun: systemd reports the unit as stopping rather than wedged.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("draining")]);
}

/// The aggregator's loop is turning. Sent from that loop itself, never from a timer thread of
/// its own: a thread that pinged while the aggregator was stuck would hide exactly the hang the
/// watchdog is there to catch (a full channel stops every shard's reads).
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to ping: half of `WatchdogSec=`, so that one late wake-up does not cost a restart.
/// `None` when no watchdog watches this process (`WATCHDOG_USEC` unset, or `WATCHDOG_PID`
/// naming another process, as it does for ztel's children).
pub fn watchdog_every() -> Option<Duration> {
    // `WATCHDOG_USEC=0` (set by hand: systemd takes 0 for off) had the aggregator's loop
    // spin, pinging.
    sd_notify::watchdog_enabled()
        .filter(|interval| !interval.is_zero())
        .map(|interval| (interval / 2).max(Duration::from_millis(1)))
}

fn send(state: &[NotifyState]) {
    // Collecting matters more than telling systemd about it: say so and go on. (systemd kills a
    // service whose watchdog pings stop arriving, so a lasting failure does not go unnoticed.)
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!("cannot notify systemd: {e}");
    }
}

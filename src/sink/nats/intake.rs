//! The NATS thread's intake: the aggregator's frames into the queue, as long as it has room.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, Notify};

use super::frame::Frames;
use super::publish::RETRY;
use super::queue::Queue;
use super::Link;

pub fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // A panic while holding it leaves a spool whose files are still whole: go on.
    queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes the aggregator's frames into the queue while it has room; when it has none, stops
/// taking (so the channel fills and the aggregator holds its batches), except at shutdown.
pub async fn intake(
    mut rx: mpsc::Receiver<Frames>,
    queue: Arc<Mutex<Queue>>,
    link: Arc<Link>,
    wake: Arc<Notify>,
    room: Arc<Notify>,
) {
    let mut errors = 0u64;
    while let Some(mut chunk) = rx.recv().await {
        link.took();
        loop {
            let appended = {
                let mut q = lock(&queue);
                if q.has_room(&chunk) || link.closing.load(Ordering::SeqCst) {
                    let result = q.append(&mut chunk);
                    link.stats.note_spool(&q);
                    Some(result)
                } else {
                    None
                }
            };
            match appended {
                Some(Ok(())) => {
                    // A batch written to the spool leaves its buffers for another (one kept in
                    // memory left `chunk` empty).
                    link.give_back(std::mem::take(&mut chunk));
                    wake.notify_one();
                    break;
                }
                Some(Err(e)) if link.closing.load(Ordering::SeqCst) => {
                    // At shutdown a spool that cannot be written is not waited for (the drain
                    // would never end): said, like a sink's failed spill. The records are in
                    // the records file all the same.
                    crate::logging::say(
                        tracing::Level::ERROR,
                        format_args!(
                            "output.nats: cannot spool {} bytes at shutdown ({e}); they are in \
                             the records file but will not reach NATS",
                            chunk.flat_len()
                        ),
                    );
                    break;
                }
                Some(Err(e)) => {
                    errors += 1;
                    if errors.is_power_of_two() {
                        tracing::error!(errors, "output.nats: cannot write the spool: {e}");
                    }
                    tokio::time::sleep(RETRY).await;
                }
                None => {
                    tokio::select! {
                        _ = room.notified() => {}
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        }
    }
}

//! Frees what the consensus loop is done with on a thread of its own.
//!
//! Committing a block replaces the committed state, and freeing the old one is slow: the
//! records-tree paths the block rewrote are cold by then, and each freed node waits for a
//! cache miss (about 8% of a node's CPU during a 10 M-bottle ingest). On the consensus
//! thread that time delays the next height; here it overlaps with it. The queue is short,
//! so a reaper that falls behind makes the loop wait instead of holding old states.

use std::sync::mpsc::{sync_channel, SyncSender};

/// Old values queued at most; one more makes the sender wait.
const QUEUE: usize = 4;

/// Drops values on its thread, in the order given.
pub struct Reaper {
    queue: Option<SyncSender<Box<dyn Send>>>,
}

impl Reaper {
    /// Starts the thread. If the thread cannot start, [`Reaper::drop_later`] drops inline.
    pub fn spawn(name: &str) -> Reaper {
        let (queue, rx) = sync_channel::<Box<dyn Send>>(QUEUE);
        let started = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || rx.into_iter().for_each(drop));
        Reaper {
            queue: started.ok().map(|_| queue),
        }
    }

    /// Drops `value` on the reaper's thread (here, if that thread is gone).
    pub fn drop_later(&self, value: impl Send + 'static) {
        let value: Box<dyn Send> = Box::new(value);
        if let Some(queue) = &self.queue {
            // A send fails only if the thread has ended; the value comes back to drop here.
            if let Err(returned) = queue.send(value) {
                drop(returned.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Sender};
    use std::time::Duration;

    /// Reports its number and the thread it is dropped on.
    struct Probe(usize, Sender<(usize, Option<String>)>);

    impl Drop for Probe {
        fn drop(&mut self) {
            let name = std::thread::current().name().map(str::to_owned);
            let _ = self.1.send((self.0, name));
        }
    }

    #[test]
    fn test_values_are_dropped_on_the_reaper_thread_in_order() {
        let reaper = Reaper::spawn("test-reaper");
        let (tx, rx) = channel();
        for i in 0..(QUEUE * 3) {
            reaper.drop_later(Probe(i, tx.clone()));
        }
        for i in 0..(QUEUE * 3) {
            let dropped = rx.recv_timeout(Duration::from_secs(10)).expect("dropped");
            assert_eq!(dropped, (i, Some("test-reaper".to_owned())));
        }
    }

    #[test]
    fn test_without_a_thread_values_drop_at_once() {
        let reaper = Reaper { queue: None };
        let (tx, rx) = channel();
        reaper.drop_later(Probe(7, tx));
        let dropped = rx.try_recv().expect("dropped before drop_later returned");
        assert_eq!(
            dropped,
            (7, std::thread::current().name().map(str::to_owned))
        );
    }
}

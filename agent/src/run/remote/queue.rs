//! From the management server's threads to the main loop: a bounded queue
//! of asks, each with the channel its answer goes back on, and a wake the
//! main loop polls beside its signalfd (a socket pair: a byte written wakes
//! the poll; what is read is thrown away, the queue holds the asks).

use crate::keeper::WeightRequest;
use crate::manage::api::{ConfigAnswer, Done, HealthRow};
use crate::manage::OpError;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::time::Duration;

/// Asks waiting for the main loop at most; one more is answered "busy".
pub const ASKS_MAX: usize = 16;

/// Where the main loop's answer goes.
pub type Reply<T> = Sender<Result<T, OpError>>;

/// What the main loop is asked.
pub enum Ask {
    Config(Reply<ConfigAnswer>),
    /// Each checked real server's health; the keeper answers on it directly.
    Health(Sender<Vec<HealthRow>>),
    /// A validated text: written over the config file, then run.
    Apply {
        text: String,
        reply: Reply<Done>,
    },
    /// A validated text, run until `within` has passed unless confirmed.
    Try {
        text: String,
        within: Duration,
        reply: Reply<Done>,
    },
    Confirm(Reply<Done>),
    Weight {
        request: WeightRequest,
        reply: Reply<Done>,
    },
    /// Stop the agent as SIGTERM does (tests that run it on a thread).
    Stop,
}

/// The management server's side: cloneable, shared by its threads.
#[derive(Clone)]
pub struct Asks {
    tx: SyncSender<Ask>,
    wake: std::sync::Arc<UnixStream>,
}

/// The main loop's side.
pub struct AskQueue {
    rx: Receiver<Ask>,
    wake: UnixStream,
}

pub fn queue() -> std::io::Result<(Asks, AskQueue)> {
    let (writer, reader) = UnixStream::pair()?;
    writer.set_nonblocking(true)?;
    reader.set_nonblocking(true)?;
    let (tx, rx) = mpsc::sync_channel(ASKS_MAX);
    Ok((Asks { tx, wake: std::sync::Arc::new(writer) }, AskQueue { rx, wake: reader }))
}

impl Asks {
    /// Queues `ask` and wakes the main loop; Unavailable when it has too
    /// many asks waiting, or has stopped.
    pub fn send(&self, ask: Ask) -> Result<(), OpError> {
        match self.tx.try_send(ask) {
            Ok(()) => {
                // A full socket buffer means a wake is pending already.
                let _ = (&*self.wake).write(&[1]);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(OpError::Unavailable(format!(
                "the agent has {ASKS_MAX} requests waiting already; try again in a moment"
            ))),
            Err(TrySendError::Disconnected(_)) => Err(OpError::Unavailable("the agent is stopping".to_string())),
        }
    }

    /// Asks and waits up to `wait` for the answer.
    pub fn ask<T>(&self, wait: Duration, ask: impl FnOnce(Reply<T>) -> Ask) -> Result<T, OpError> {
        let (reply, answer) = mpsc::channel();
        self.send(ask(reply))?;
        match answer.recv_timeout(wait) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(OpError::Unavailable("the agent is stopping".to_string())),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(OpError::Unavailable(format!(
                "the agent did not answer within {wait:?} (it may be between two configs); see its log"
            ))),
        }
    }
}

impl AskQueue {
    /// What the main loop polls.
    pub fn wake_fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The next ask, if any; the wake is emptied first, so that an ask
    /// queued after this call wakes the next poll.
    pub fn next(&self) -> Option<Ask> {
        let mut sink = [0u8; 64];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

    fn woken(queue: &AskQueue) -> bool {
        let mut fds = [PollFd::new(queue.wake_fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::ZERO).unwrap() > 0
    }

    #[test]
    fn an_ask_wakes_the_poll_and_is_answered_on_its_own_channel() {
        let (asks, queue) = queue().unwrap();
        assert!(!woken(&queue));
        let main = std::thread::spawn(move || {
            let mut fds = [PollFd::new(queue.wake_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(5000u16)).unwrap();
            match queue.next() {
                Some(Ask::Confirm(reply)) => reply.send(Err(OpError::Conflict("no try is running".into()))).unwrap(),
                _ => panic!("not the confirm asked"),
            }
            assert!(queue.next().is_none());
            assert!(!woken(&queue), "the wake emptied");
        });
        let answer = asks.ask(Duration::from_secs(5), Ask::Confirm);
        assert_eq!(answer, Err::<Done, _>(OpError::Conflict("no try is running".into())));
        main.join().unwrap();
    }

    #[test]
    fn a_full_queue_a_silent_loop_and_a_stopped_one_are_unavailable() {
        let (asks, queue) = queue().unwrap();
        for _ in 0..ASKS_MAX {
            asks.send(Ask::Stop).unwrap();
        }
        let full = asks.send(Ask::Stop).unwrap_err();
        assert!(matches!(&full, OpError::Unavailable(m) if m.contains("16 requests waiting")), "{full:?}");
        while queue.next().is_some() {}
        let silent = asks.ask::<Done>(Duration::from_millis(50), Ask::Confirm).unwrap_err();
        assert!(matches!(&silent, OpError::Unavailable(m) if m.contains("did not answer")), "{silent:?}");
        drop(queue);
        let stopped = asks.ask::<Done>(Duration::from_secs(5), Ask::Confirm).unwrap_err();
        assert_eq!(stopped, OpError::Unavailable("the agent is stopping".into()));
    }
}

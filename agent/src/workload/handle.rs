//! The supervisor on a thread of its own, and the handle the run mode keeps.
//!
//! The agent's main thread waits for SIGTERM/SIGINT/SIGHUP with sigwait, so
//! this thread takes no signal at all: it notices ended workloads by polling
//! each of its own children with waitid(WNOHANG) every `TICK` (waiting for
//! "any child" would steal other children's exits from whoever waits for them).

use super::os::OsSpawner;
use super::report::StopReport;
use super::seams::{Clock, Spawner, SystemClock};
use super::supervisor::Supervisor;
use lvs_config::model::Workload;
use nix::sys::signal::{SigSet, Signal};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How late an exit may be noticed while running.
pub const TICK: Duration = Duration::from_millis(100);
/// How late an exit may be noticed while stopping.
const STOP_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("cannot start the workload supervisor thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// The running supervisor. `stop` it at shutdown; dropping it stops it too.
pub struct Handle {
    running: Option<(mpsc::Sender<()>, JoinHandle<StopReport>)>,
}

/// Starts `workloads` now and keeps them running until `Handle::stop`.
pub fn start(workloads: Vec<Workload>) -> Result<Handle, WorkloadError> {
    start_with(workloads, OsSpawner, SystemClock)
}

pub fn start_with<S, C>(workloads: Vec<Workload>, spawner: S, clock: C) -> Result<Handle, WorkloadError>
where
    S: Spawner + Send + 'static,
    C: Clock + Send + 'static,
{
    if workloads.is_empty() {
        return Ok(Handle { running: None });
    }
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("workloads".into())
        .spawn(move || run(Supervisor::new(workloads, spawner, clock), rx))
        .map_err(WorkloadError::Thread)?;
    Ok(Handle { running: Some((tx, thread)) })
}

impl Handle {
    /// Stops every workload (SIGTERM, then SIGKILL after its stop_timeout),
    /// reaps them and says how each ended. Each outcome is also logged.
    pub fn stop(mut self) -> StopReport {
        self.finish()
    }

    fn finish(&mut self) -> StopReport {
        let Some((tx, thread)) = self.running.take() else { return StopReport::default() };
        let _ = tx.send(());
        thread.join().unwrap_or_else(|_| {
            crate::note!(error, "the workload supervisor panicked; its workloads are left to PID 1");
            StopReport::default()
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.finish();
    }
}

fn run<S: Spawner, C: Clock>(mut supervisor: Supervisor<S, C>, stop: mpsc::Receiver<()>) -> StopReport {
    // A stop signal must reach the main thread's sigwait, not kill the process
    // by its default action here; the run mode blocks them before starting us,
    // and this keeps it so whoever starts us.
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    let _ = set.thread_block();

    loop {
        let next = supervisor.tick();
        let wait = next.map_or(TICK, |at| at.saturating_duration_since(Instant::now()).min(TICK));
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    supervisor.begin_stop();
    while !supervisor.stop_tick() {
        std::thread::sleep(STOP_TICK);
    }
    supervisor.report()
}

//! What an operator asks of the running agent through its run directory: a
//! config to try until confirmed (`try_folder`), and weights
//! (`weight_requests`). The CLI writes the request and signals the agent;
//! the main loop handles it here. The management API asks the same of the
//! main loop (`run::asks`), through the same functions.

pub mod try_folder;
pub mod weight_requests;

use super::services::Swap;
use super::Agent;
use crate::capped::{self, CappedReadError};
use crate::manage::OpError;
use crate::state::now_ms;
use try_folder::Step;
use weight_requests::Verdict;

impl Agent<'_> {
    /// Handles the try folder; true while a try decides what runs.
    pub(super) fn tries(&mut self) -> bool {
        let run_dir = self.opts.run_dir.clone();
        let config = self.opts.config.clone();
        match try_folder::step(try_folder::read(&run_dir), now_ms()) {
            Step::Trying(t) => {
                if self.trying != Some(t.deadline_ms) {
                    self.start_try(&t);
                }
                true
            }
            Step::Expired(t) => {
                let _ = try_folder::clear(&run_dir);
                if self.trying.take().is_some() {
                    crate::note!(
                        warn,
                        "config: the try of {} was not confirmed in time; going back to {}",
                        t.candidate.display(),
                        config.display()
                    );
                    self.fingerprint = super::current::fingerprint(&config);
                    self.swap_to(&config, "the try expired");
                }
                true
            }
            Step::Confirmed(_) => {
                let _ = try_folder::clear(&run_dir);
                if self.trying.is_some() {
                    let _ = self.keep_tried();
                }
                true
            }
            Step::None => {
                self.trying = None;
                false
            }
        }
    }

    /// Runs the candidate of `t` until its deadline; a candidate that cannot
    /// run ends the try.
    pub(super) fn start_try(&mut self, t: &try_folder::Try) -> Swap {
        let left = t.deadline_ms.saturating_sub(now_ms()) / 1000;
        crate::note!(info, "config: trying {} for {left} s; `lvs-agent confirm` keeps it", t.candidate.display());
        let swap = self.swap_to(&t.candidate, "a try");
        if swap.runs() {
            self.trying = Some(t.deadline_ms);
        } else {
            let _ = try_folder::clear(&self.opts.run_dir);
        }
        swap
    }

    /// Keeps the config being tried: written over the config file (the one
    /// before kept beside it), so that it is also what the next boot runs.
    /// Says what it did, or why the file could not be written (the tried
    /// config runs until the agent restarts, then the file's does).
    pub(super) fn keep_tried(&mut self) -> Result<String, OpError> {
        self.trying = None;
        let config = self.opts.config.clone();
        let written = self.config_file().write(self.current.text());
        self.fingerprint = super::current::fingerprint(&config);
        match written {
            Ok(()) => {
                let line = format!("config: try confirmed; {} now holds it", config.display());
                crate::note!(info, "{line}");
                Ok(line)
            }
            Err(e) => {
                let line = format!(
                    "config: try confirmed, but {e}; it runs until the agent restarts, then {} does",
                    config.display()
                );
                crate::note!(error, "{line}");
                Err(OpError::Failed(line))
            }
        }
    }

    /// Applies the operators' weight requests waiting in the run directory;
    /// the log and the answer file beside each request say what each did, or
    /// why not.
    pub(super) fn weights(&mut self) {
        for request in weight_requests::pending(&self.opts.run_dir) {
            let read = capped::read_to_string(&request, weight_requests::REQUEST_MAX_BYTES, "weight request");
            let (verdict, what) = match read {
                Err(e @ CappedReadError::TooBig { .. }) => (Verdict::Refused, e.to_string()),
                Err(e) => (Verdict::Failed, e.to_string()),
                Ok(text) => match weight_requests::from_text(&text) {
                    Err(e) => (Verdict::Refused, e.to_string()),
                    Ok(r) => match self.services.as_ref().map(|s| s.set_weight(r)) {
                        Some(Ok(done)) => (Verdict::Applied, done),
                        Some(Err(e)) if e.is_wrong_input() => (Verdict::Refused, e.to_string()),
                        Some(Err(e)) => (Verdict::Failed, e.to_string()),
                        None => (Verdict::Failed, "the agent is between two configs".to_string()),
                    },
                },
            };
            if verdict != Verdict::Applied {
                crate::note!(warn, "weight: {what}");
            }
            let answer = weight_requests::answer_path(&request);
            if let Err(e) = crate::atomic_file::write(&answer, weight_requests::answer_text(verdict, &what).as_bytes())
            {
                crate::note!(warn, "weight: cannot write the answer {}: {e}", answer.display());
            }
            let _ = std::fs::remove_file(&request);
        }
    }
}

//! The main loop's side of the management API: each ask the server's
//! threads queued (`remote::queue`) is done here, on the main thread,
//! through the functions the local paths use: the swap for apply, the try
//! folder for try and confirm, the keeper for weights. One at a time, so
//! that an apply never races a poll of the config file or a try's deadline.

use super::control::try_folder::{self, CANDIDATE, CONFIRMED, DEADLINE, TRY_DIR};
use super::remote::Ask;
use super::services::Swap;
use super::Agent;
use crate::keeper::WeightRequest;
use crate::manage::api::{ConfigAnswer, Done, Trying};
use crate::manage::OpError;
use crate::state::format::fnv1a64;
use crate::state::now_ms;
use std::time::Duration;

impl Agent<'_> {
    /// Does what was asked; true when asked to stop.
    pub(super) fn answer_asks(&mut self) -> bool {
        while let Some(ask) = self.queue.as_ref().and_then(|q| q.next()) {
            match ask {
                Ask::Config(reply) => drop(reply.send(Ok(self.config_answer()))),
                Ask::Health(done) => match &self.services {
                    Some(services) => services.health(done),
                    None => drop(done.send(Vec::new())),
                },
                Ask::Apply { text, reply } => drop(reply.send(self.apply_text(&text))),
                Ask::Try { text, within, reply } => drop(reply.send(self.try_text(&text, within))),
                Ask::Confirm(reply) => drop(reply.send(self.confirm_try())),
                Ask::Weight { request, reply } => drop(reply.send(self.weight(request))),
                Ask::Stop => return true,
            }
        }
        false
    }

    fn config_answer(&self) -> ConfigAnswer {
        let text = self.current.text();
        // While a try runs, the file it goes back to.
        let path = if self.trying.is_some() { &self.opts.config } else { &self.current.path };
        ConfigAnswer {
            path: path.display().to_string(),
            text: text.to_string(),
            hash: format!("{:016x}", fnv1a64(text.as_bytes())),
            trying: self.trying.map(|deadline_ms| Trying { deadline_ms }),
        }
    }

    /// A try decides what runs until it is confirmed or lapses.
    fn no_try(&self) -> Result<(), OpError> {
        match self.trying.or_else(|| try_folder::read(&self.opts.run_dir).map(|t| t.deadline_ms)) {
            None => Ok(()),
            Some(deadline_ms) => Err(OpError::Conflict(format!(
                "a try is running (for {} s more): confirm it or let it lapse first",
                deadline_ms.saturating_sub(now_ms()) / 1000
            ))),
        }
    }

    /// Written over the config file (the one before kept beside it), then run.
    fn apply_text(&mut self, text: &str) -> Result<Done, OpError> {
        self.no_try()?;
        let config = self.opts.config.clone();
        if let Err(e) = lvs_config::parse(text, &config) {
            return Err(OpError::Refused(e.to_string()));
        }
        self.config_file().write(text).map_err(|e| OpError::Failed(format!("{e}; nothing changed")))?;
        crate::note!(info, "config: {} written by the management API", config.display());
        self.fingerprint = super::current::fingerprint(&config);
        done(self.swap_to(&config, "applied over the management API"), &config)
    }

    /// As `lvs-agent try` does: the try folder written, then run at once.
    fn try_text(&mut self, text: &str, within: Duration) -> Result<Done, OpError> {
        let dir = self.opts.run_dir.join(TRY_DIR);
        let deadline_ms = now_ms().saturating_add(u64::try_from(within.as_millis()).unwrap_or(u64::MAX));
        let write = |name: &str, bytes: &[u8]| {
            crate::atomic_file::write(&dir.join(name), bytes)
                .map_err(|e| OpError::Failed(format!("cannot write {}: {e}; nothing tried", dir.join(name).display())))
        };
        let _ = std::fs::remove_file(dir.join(CONFIRMED));
        // The deadline first: a try starts when its candidate is there.
        write(DEADLINE, format!("{deadline_ms}\n").as_bytes())?;
        write(CANDIDATE, text.as_bytes())?;
        let Some(found) = try_folder::read(&self.opts.run_dir) else {
            return Err(OpError::Failed(format!("{} is gone; nothing tried", dir.display())));
        };
        let swap = self.start_try(&found);
        let mut answer = done(swap, &found.candidate)?;
        answer.message = format!(
            "trying the candidate for {}; run `lvs-agent confirm` before then to keep it, or the agent goes back to its config file\n{}",
            humantime::format_duration(within),
            answer.message
        );
        Ok(answer)
    }

    /// As `lvs-agent confirm` does, and the file written before the answer.
    fn confirm_try(&mut self) -> Result<Done, OpError> {
        let found = try_folder::read(&self.opts.run_dir);
        if self.trying.is_none() || found.is_none() {
            return Err(OpError::Conflict("no try is running: nothing to confirm".to_string()));
        }
        let _ = try_folder::clear(&self.opts.run_dir);
        self.keep_tried().map(|message| Done { message })
    }

    /// As the weight requests of the run directory are handled.
    fn weight(&self, request: WeightRequest) -> Result<Done, OpError> {
        let Some(services) = &self.services else {
            return Err(OpError::Unavailable("the agent is between two configs".to_string()));
        };
        match services.set_weight(request) {
            Ok(message) => Ok(Done { message }),
            Err(e) if e.is_wrong_input() => Err(OpError::Refused(e.to_string())),
            Err(e) => Err(OpError::Failed(e.to_string())),
        }
    }
}

/// A swap as the API answers it.
fn done(swap: Swap, path: &std::path::Path) -> Result<Done, OpError> {
    match swap {
        Swap::Applied(message) => Ok(Done { message }),
        Swap::Unchanged => Ok(Done { message: format!("config: {} unchanged: it runs already", path.display()) }),
        Swap::TableRefused(line) => Err(OpError::Failed(line)),
        Swap::Refused(line) => Err(OpError::Refused(line)),
    }
}

//! From a loaded config to the management server's TLS, with a problem in
//! the pki folder reported at the config's `pki` (or `management`) line and
//! column, at boot and in `lvs-agent check`.

use lvs_config::{Diagnostic, Loaded, Problem, ValuePath};
use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The whole diagnostic: file:line:col, what is wrong, what to do.
    #[error("{0}")]
    Pki(String),
}

/// What to do about a pki folder that is missing or wrong.
const MAKE_ONE: &str = "run `lvs-agent pki init DIR --name NAME --address IP` on your machine and \
    `lvs-image build --pki DIR` to put DIR's ca.pem and server.pem on the config partition, \
    or set `pki` to the folder that holds them";

/// The TLS settings for the config's management API; None when it has none.
pub fn tls(loaded: &Loaded) -> Result<Option<Arc<rustls::ServerConfig>>, SetupError> {
    let Some(m) = &loaded.model.management else { return Ok(None) };
    crate::pki::server_config(&m.pki)
        .map(Some)
        .map_err(|e| SetupError::Pki(pki_diagnostic(loaded, unusable(&m.pki, &e)).to_string()))
}

/// What `lvs-agent check` says of the pki folder, on a machine that may not
/// be the appliance: a folder that is here is loaded as at boot (an error if
/// it is unusable); one missing from a folder that is here is an error; one
/// whose parent is not here either cannot be checked (a warning), and is
/// checked at boot. None when it loads, or the config has no management.
pub fn check_here(loaded: &Loaded) -> Option<Diagnostic> {
    let dir = &loaded.model.management.as_ref()?.pki;
    let problem = match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            match dir.parent().filter(|p| !p.as_os_str().is_empty()).map(std::fs::metadata) {
                Some(Ok(_)) => Problem::error(
                    pki_path(),
                    format!("management pki folder {} does not exist", dir.display()),
                )
                .help(MAKE_ONE),
                _ => Problem::warning(
                    pki_path(),
                    format!(
                        "management pki folder {} is not on this machine: not checked here; the agent checks it at boot",
                        dir.display()
                    ),
                )
                .help("check the config where the folder is, or make sure the image is built with `lvs-image build --pki DIR`"),
            }
        }
        _ => unusable(dir, &crate::pki::server_config(dir).err()?),
    };
    Some(pki_diagnostic(loaded, problem))
}

/// A pki folder the agent cannot serve with: the error names the file.
fn unusable(dir: &Path, e: &crate::pki::PkiError) -> Problem {
    Problem::error(pki_path(), format!("management pki folder {} is not usable: {e}", dir.display())).help(MAKE_ONE)
}

/// The value `pki` in the config; when it is not written (the default),
/// placed at `management`.
fn pki_path() -> ValuePath {
    ValuePath::root().field("management").field("pki")
}

fn pki_diagnostic(loaded: &Loaded, problem: Problem) -> Diagnostic {
    loaded.diagnostic(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(management: &str) -> Loaded {
        let text = format!("Appliance(\n    role: Director(services: []),\n    management: {management},\n)\n");
        lvs_config::parse(&text, Path::new("/config/appliance.ron")).unwrap()
    }

    #[test]
    fn no_management_no_tls_and_nothing_to_check() {
        let l = lvs_config::parse("Appliance(role: Director(services: []))", Path::new("a.ron")).unwrap();
        assert!(tls(&l).unwrap().is_none());
        assert!(check_here(&l).is_none());
    }

    #[test]
    fn an_unusable_pki_folder_is_an_error_at_its_line_and_column_saying_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().display().to_string();
        let l = loaded(&format!(r#"Management(listen: ["192.0.2.10:9443"], pki: "{pki}")"#));
        let Err(SetupError::Pki(text)) = tls(&l) else { panic!("an empty folder served TLS") };
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("/config/appliance.ron:3:62: error: management pki folder "), "{text}");
        // What pki says is wrong names the file.
        assert!(first.contains(&format!("{pki}/")), "{text}");
        assert!(text.contains("help: run `lvs-agent pki init DIR"), "{text}");
        assert!(text.contains("`lvs-image build --pki DIR`"), "{text}");
        let d = check_here(&l).unwrap();
        assert_eq!(d.to_string(), text);
    }

    #[test]
    fn the_default_pki_is_placed_at_management() {
        let l = loaded(r#"Management(listen: ["192.0.2.10:9443"])"#);
        let Err(SetupError::Pki(text)) = tls(&l) else { panic!() };
        assert!(text.starts_with("/config/appliance.ron:3:17: error: management pki folder /config/pki "), "{text}");
    }

    #[test]
    fn check_tells_a_missing_folder_from_one_it_cannot_see() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("pki");
        let l = loaded(&format!(r#"Management(listen: ["192.0.2.10:9443"], pki: "{}")"#, missing.display()));
        let d = check_here(&l).unwrap();
        assert_eq!(d.severity, lvs_config::Severity::Error);
        assert!(d.message.contains("does not exist"), "{d}");
        assert!(d.help.as_deref().unwrap().contains("lvs-agent pki init"), "{d}");

        let far = dir.path().join("no/such/pki");
        let l = loaded(&format!(r#"Management(listen: ["192.0.2.10:9443"], pki: "{}")"#, far.display()));
        let d = check_here(&l).unwrap();
        assert_eq!(d.severity, lvs_config::Severity::Warning);
        assert!(d.message.contains("not checked here; the agent checks it at boot"), "{d}");
        assert_eq!(d.position.map(|p| (p.line, p.column)), Some((3, 62)));
    }
}

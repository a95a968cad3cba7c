//! The kernel command line parameters PID 1 reads (`lvs.config=`, `lvs.loglevel=`, `lvs.run=`).

use std::path::PathBuf;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cmdline {
    pub config: Option<PathBuf>,
    pub loglevel: Option<log::LevelFilter>,
    /// Program and arguments to run once the agent is ready (a test hook).
    pub run: Option<Vec<String>>,
    /// Parameters we know but whose values we could not read, to log once logging is up.
    pub problems: Vec<String>,
}

impl Cmdline {
    /// Reads `/proc/cmdline` text. Unknown parameters belong to the kernel and are ignored.
    pub fn parse(text: &str) -> Cmdline {
        let mut c = Cmdline::default();
        for word in text.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else { continue };
            match key {
                "lvs.config" if !value.is_empty() => c.config = Some(PathBuf::from(value)),
                "lvs.loglevel" => match value.parse() {
                    Ok(level) => c.loglevel = Some(level),
                    Err(_) => c.problems.push(format!(
                        "lvs.loglevel={value} is not error, warn, info, debug or trace; keeping the config's level"
                    )),
                },
                "lvs.run" if !value.is_empty() => c.run = Some(value.split(',').map(str::to_string).collect()),
                _ => {}
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_parameters_and_ignores_the_kernels() {
        let c = Cmdline::parse(
            "console=ttyS0 quiet lvs.config=/config/x.ron lvs.loglevel=debug lvs.run=/usr/bin/ipvsadm,-Ln panic=-1\n",
        );
        assert_eq!(c.config, Some(PathBuf::from("/config/x.ron")));
        assert_eq!(c.loglevel, Some(log::LevelFilter::Debug));
        assert_eq!(c.run, Some(vec!["/usr/bin/ipvsadm".to_string(), "-Ln".to_string()]));
        assert!(c.problems.is_empty());
    }

    #[test]
    fn a_bad_level_is_reported_not_fatal() {
        let c = Cmdline::parse("lvs.loglevel=loud");
        assert_eq!(c.loglevel, None);
        assert_eq!(c.problems.len(), 1);
    }
}

//! The command line PID 1 starts the agent with.

use std::path::{Path, PathBuf};

/// Where PID 1 mounts the config partition, read-only.
pub const CONFIG_MOUNT: &str = "/config";

/// What PID 1 found, from which the agent's arguments follow.
pub struct Found<'a> {
    pub program: &'a Path,
    pub config: &'a Path,
    /// Whether the config partition is mounted at [`CONFIG_MOUNT`].
    pub config_partition: bool,
    pub state_dir: &'a Path,
    pub log_level: Option<log::LevelFilter>,
}

/// `run --config ... --state-dir ... --under-init`, with `--config-mount`
/// when the config is on the config partition, so that the agent can
/// remount it read-write to write a change that lasts; `--under-init` says
/// that the agent's PID 1 is this one (which reboots and powers off).
pub fn agent_args(found: &Found<'_>) -> Vec<String> {
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let mut args = vec![
        text(found.program),
        "run".to_string(),
        "--config".to_string(),
        text(found.config),
        "--state-dir".to_string(),
        text(found.state_dir),
        "--under-init".to_string(),
    ];
    let mount = PathBuf::from(CONFIG_MOUNT);
    if found.config_partition && found.config.starts_with(&mount) {
        args.extend(["--config-mount".to_string(), text(&mount)]);
    }
    if let Some(level) = found.log_level {
        args.extend(["--log-level".to_string(), level.to_string().to_lowercase()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(config: &str, config_partition: bool, log_level: Option<log::LevelFilter>) -> String {
        agent_args(&Found {
            program: Path::new("/init"),
            config: Path::new(config),
            config_partition,
            state_dir: Path::new("/state"),
            log_level,
        })
        .join(" ")
    }

    #[test]
    fn the_partitions_config_comes_with_its_mount_point() {
        assert_eq!(
            args("/config/appliance.ron", true, None),
            "/init run --config /config/appliance.ron --state-dir /state --under-init --config-mount /config"
        );
        assert_eq!(
            args("/config/other.ron", true, Some(log::LevelFilter::Debug)),
            "/init run --config /config/other.ron --state-dir /state --under-init --config-mount /config --log-level debug"
        );
    }

    #[test]
    fn a_config_elsewhere_has_nothing_to_remount() {
        assert_eq!(
            args("/etc/lvs/appliance.ron", true, None),
            "/init run --config /etc/lvs/appliance.ron --state-dir /state --under-init"
        );
        // /config without the partition is the initramfs's own folder.
        assert_eq!(
            args("/config/appliance.ron", false, None),
            "/init run --config /config/appliance.ron --state-dir /state --under-init"
        );
    }
}

//! ipvsadm's command-line grammar (version 1.31), described to clap so that
//! option parsing (clusters like `-Ln`, `-p` with an optional value) is clap's.

use clap::{ArgGroup, CommandFactory, FromArgMatches, Parser};

/// One ipvsadm invocation, without the program name.
#[derive(Parser, Debug, Default)]
#[command(
    name = "ipvsadm",
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    group(ArgGroup::new("command").required(true).multiple(false))
)]
pub struct Args {
    #[arg(short = 'A', long = "add-service", group = "command")]
    pub add_service: bool,
    #[arg(short = 'E', long = "edit-service", group = "command")]
    pub edit_service: bool,
    #[arg(short = 'D', long = "delete-service", group = "command")]
    pub delete_service: bool,
    #[arg(short = 'C', long = "clear", group = "command")]
    pub clear: bool,
    #[arg(short = 'R', long = "restore", group = "command")]
    pub restore: bool,
    #[arg(short = 'S', long = "save", group = "command")]
    pub save: bool,
    #[arg(short = 'a', long = "add-server", group = "command")]
    pub add_server: bool,
    #[arg(short = 'e', long = "edit-server", group = "command")]
    pub edit_server: bool,
    #[arg(short = 'd', long = "delete-server", group = "command")]
    pub delete_server: bool,
    #[arg(short = 'L', long = "list", visible_short_alias = 'l', group = "command")]
    pub list: bool,
    #[arg(short = 'Z', long = "zero", group = "command")]
    pub zero: bool,
    #[arg(long = "set", num_args = 3, value_names = ["TCP", "TCPFIN", "UDP"], group = "command")]
    pub set: Option<Vec<u32>>,
    #[arg(long = "start-daemon", group = "command")]
    pub start_daemon: Option<String>,
    #[arg(long = "stop-daemon", group = "command")]
    pub stop_daemon: Option<String>,
    #[arg(short = 'h', long = "help", group = "command")]
    pub help: bool,
    #[arg(short = 'v', long = "version", group = "command")]
    pub version: bool,

    #[arg(short = 't', long = "tcp-service")]
    pub tcp_service: Option<String>,
    #[arg(short = 'u', long = "udp-service")]
    pub udp_service: Option<String>,
    #[arg(long = "sctp-service")]
    pub sctp_service: Option<String>,
    #[arg(short = 'f', long = "fwmark-service")]
    pub fwmark_service: Option<u32>,
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    #[arg(short = 's', long = "scheduler")]
    pub scheduler: Option<String>,
    /// A bare `-p` means 360 s: ipvsadm's IPVS_SVC_PERSISTENT_TIMEOUT.
    #[arg(short = 'p', long = "persistent", num_args = 0..=1, default_missing_value = "360")]
    pub persistent: Option<u32>,
    #[arg(short = 'M', long = "netmask")]
    pub netmask: Option<String>,
    #[arg(long = "pe")]
    pub pe: Option<String>,
    #[arg(short = 'o', long = "ops")]
    pub ops: bool,
    #[arg(short = 'b', long = "sched-flags")]
    pub sched_flags: Option<String>,

    #[arg(short = 'r', long = "real-server")]
    pub real_server: Option<String>,
    #[arg(short = 'g', long = "gatewaying")]
    pub gatewaying: bool,
    #[arg(short = 'i', long = "ipip")]
    pub ipip: bool,
    #[arg(short = 'm', long = "masquerading")]
    pub masquerading: bool,
    /// i64 and negative numbers allowed so that a bad weight gets our message.
    #[arg(short = 'w', long = "weight", allow_negative_numbers = true)]
    pub weight: Option<i64>,
    #[arg(short = 'x', long = "u-threshold")]
    pub u_threshold: Option<u32>,
    #[arg(short = 'y', long = "l-threshold")]
    pub l_threshold: Option<u32>,
    #[arg(long = "tun-type")]
    pub tun_type: Option<String>,
    #[arg(long = "tun-port")]
    pub tun_port: Option<u16>,
    #[arg(long = "tun-nocsum")]
    pub tun_nocsum: bool,
    #[arg(long = "tun-csum")]
    pub tun_csum: bool,
    #[arg(long = "tun-remcsum")]
    pub tun_remcsum: bool,

    #[arg(long = "mcast-interface")]
    pub mcast_interface: Option<String>,
    #[arg(long = "syncid")]
    pub syncid: Option<u8>,
    #[arg(long = "mcast-group")]
    pub mcast_group: Option<String>,
    #[arg(long = "mcast-port")]
    pub mcast_port: Option<u16>,
    #[arg(long = "mcast-ttl")]
    pub mcast_ttl: Option<u8>,
    #[arg(long = "sync-maxlen")]
    pub sync_maxlen: Option<u16>,

    // Listing options: accepted so that listing lines parse, and otherwise ignored.
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    #[arg(short = 'c', long = "connection")]
    pub connection: bool,
    #[arg(long = "timeout")]
    pub timeout: bool,
    #[arg(long = "daemon")]
    pub daemon: bool,
    #[arg(long = "stats")]
    pub stats: bool,
    #[arg(long = "rate")]
    pub rate: bool,
    #[arg(long = "thresholds")]
    pub thresholds: bool,
    #[arg(long = "persistent-conn")]
    pub persistent_conn: bool,
    #[arg(long = "nosort")]
    pub nosort: bool,
    #[arg(long = "sort")]
    pub sort: bool,
    #[arg(long = "exact")]
    pub exact: bool,
    #[arg(long = "tun-info")]
    pub tun_info: bool,
}

/// A line's words that are not an ipvsadm command line clap can read.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// Shown as the first line of clap's message, without its `error: `.
    #[error("{}", first_line(source))]
    Refused { words: Vec<String>, source: clap::Error },
}

fn first_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("cannot parse").to_string();
    first.strip_prefix("error: ").map(str::to_string).unwrap_or(first)
}

/// Reads many lines with one clap `Command`: building it costs about three
/// times what parsing a line with it does, and a rule file may have a million lines.
pub struct ArgsParser {
    command: clap::Command,
}

impl ArgsParser {
    pub fn new() -> ArgsParser {
        ArgsParser { command: Args::command() }
    }

    pub fn parse(&mut self, words: &[String]) -> Result<Args, ArgsError> {
        let refused = |source| ArgsError::Refused { words: words.to_vec(), source };
        let matches = self.command.try_get_matches_from_mut(words).map_err(refused)?;
        Args::from_arg_matches(&matches).map_err(refused)
    }
}

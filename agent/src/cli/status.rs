//! `lvs-agent status`: the kernel's IPVS table as `ipvsadm -Ln` shows it,
//! here or, with `--endpoint`, on the appliance (remote::status).

use super::remote::{self, status::Shown, Target};
use lvs_agent::manage::api::StatusQuery;
use lvs_agent::status::{self, Format, Options};
use lvs_ipvs::Ipvs;

#[derive(clap::Args)]
pub struct Args {
    /// Counters: Conns InPkts OutPkts InBytes OutBytes (as `ipvsadm -Ln --stats`).
    #[arg(long)]
    stats: bool,
    /// Rates: CPS InPPS OutPPS InBPS OutBPS (as `ipvsadm -Ln --rate`).
    #[arg(long)]
    rate: bool,
    /// The whole table, counters and settings, as one JSON document. With --endpoint it also
    /// has `health`: each checked real server's service, real_server and state (up, down,
    /// unknown); without --json, these follow the listing under "Health".
    #[arg(long, conflicts_with_all = ["stats", "rate", "timeout", "daemon"])]
    json: bool,
    /// Full numbers instead of K, M, G.
    #[arg(long)]
    exact: bool,
    /// Upper and lower connection thresholds instead of the weight.
    #[arg(long)]
    thresholds: bool,
    /// Persistent connections per real server.
    #[arg(long)]
    persistent_conn: bool,
    /// Tunnel type, port and checksum mode per real server.
    #[arg(long)]
    tun_info: bool,
    /// Keep the kernel's order instead of sorting (ipvsadm sorts).
    #[arg(long)]
    nosort: bool,
    /// Only the connection timeouts (as `ipvsadm -L --timeout`).
    #[arg(long)]
    timeout: bool,
    /// Only the sync daemons (as `ipvsadm -L --daemon`).
    #[arg(long)]
    daemon: bool,
    #[command(flatten)]
    pub target: Target,
}

impl Args {
    /// The listing's options, as the API's query takes them.
    fn query(&self) -> StatusQuery {
        StatusQuery {
            stats: self.stats,
            rate: self.rate,
            exact: self.exact,
            thresholds: self.thresholds,
            persistent_conn: self.persistent_conn,
            tun_info: self.tun_info,
            nosort: self.nosort,
            timeout: self.timeout,
            daemon: self.daemon,
        }
    }
}

/// On the appliance: its listing and the health of its real servers.
pub fn run_remote(args: &Args, client: &remote::Client) -> Result<i32, remote::RemoteError> {
    let shown = if args.json {
        Shown::Json
    } else if args.timeout || args.daemon {
        Shown::ListingOnly
    } else {
        Shown::Listing
    };
    remote::status::run(client, &args.query(), shown)
}

pub fn run(args: &Args, kernel: impl FnOnce() -> anyhow::Result<Box<dyn Ipvs>>) -> anyhow::Result<i32> {
    let snapshot = kernel()?.snapshot()?;
    if args.timeout {
        print!("{}", status::render_timeouts(&snapshot.timeouts));
        return Ok(0);
    }
    if args.daemon {
        let daemons: Vec<_> = snapshot.daemons.iter().map(status::DaemonStatus::from).collect();
        print!("{}", status::render_daemons(&daemons));
        return Ok(0);
    }
    let opts = Options {
        format: if args.json { Format::Json } else { Format::from_ipvsadm_flags(args.stats, args.rate) },
        exact: args.exact,
        thresholds: args.thresholds,
        persistent_conn: args.persistent_conn,
        tun_info: args.tun_info,
        nosort: args.nosort,
    };
    print!("{}", status::render(&snapshot, &opts));
    Ok(0)
}

//! `lvs-agent status`: the kernel's IPVS table in `ipvsadm -Ln`'s layout, or as JSON.
//!
//! Everything here is pure: a [`Snapshot`] in, the text out. The layout is
//! ipvsadm 1.31's (Debian's package), byte for byte, because a lab test diffs
//! the two; see `layout.rs` for the columns and `order.rs` for the listing order.

mod addr;
mod daemons;
mod json;
mod layout;
mod numbers;
mod order;

#[cfg(test)]
mod tests_json;
#[cfg(test)]
mod tests_text;

pub use daemons::{render_daemons, render_timeouts, DaemonStatus};
pub use json::{
    DaemonView, DestView, InfoView, PersistenceView, ServiceKeyView, ServiceView, StatsView, StatusView, TimeoutsView,
    TunnelView, JSON_SCHEMA_VERSION,
};

use lvs_ipvs::{ServiceEntry, Snapshot};

/// Which columns the listing has. ipvsadm accepts several of its flags at once
/// and lets one win; a caller mapping ipvsadm's flags should pick by
/// [`Format::from_ipvsadm_flags`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Forward, Weight, ActiveConn, InActConn (or the columns of `thresholds`,
    /// `persistent_conn`, `tun_info` in [`Options`]).
    #[default]
    Plain,
    /// `--stats`: Conns InPkts OutPkts InBytes OutBytes.
    Stats,
    /// `--rate`: CPS InPPS OutPPS InBPS OutBPS.
    Rate,
    /// The whole snapshot as JSON (see [`StatusView`]).
    Json,
}

impl Format {
    /// ipvsadm's precedence when both `--stats` and `--rate` are given: stats.
    pub fn from_ipvsadm_flags(stats: bool, rate: bool) -> Format {
        match (stats, rate) {
            (true, _) => Format::Stats,
            (false, true) => Format::Rate,
            (false, false) => Format::Plain,
        }
    }
}

/// `ipvsadm -L -n` options. Default: the plain listing, sorted, scaled numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub format: Format,
    /// `--exact`: full counters instead of K/M/G/T (Stats and Rate only).
    pub exact: bool,
    /// `--thresholds`: Uthreshold Lthreshold ActiveConn InActConn (Plain only).
    pub thresholds: bool,
    /// `--persistent-conn`: Weight PersistConn ActiveConn InActConn (Plain only,
    /// loses to `thresholds` as in ipvsadm).
    pub persistent_conn: bool,
    /// `--tun-info`: a TunnelInfo column (Plain only, loses to the two above).
    pub tun_info: bool,
    /// `--nosort`: keep the dump's order. ipvsadm 1.31 sorts by default (its
    /// `--sort` is a no-op), so the default here sorts too.
    pub nosort: bool,
}

/// `ipvsadm -Ln [opts]`: the version line, the column titles, every service
/// and its destinations. With [`Format::Json`], the JSON document instead.
pub fn render(snapshot: &Snapshot, opts: &Options) -> String {
    if opts.format == Format::Json {
        return json::render(snapshot, opts);
    }
    let mut out = layout::version_line(&snapshot.info);
    out.push_str(&layout::title(opts));
    for service in order::services(&snapshot.services, opts.nosort) {
        layout::service(&mut out, service, opts);
    }
    out
}

/// `ipvsadm -Ln -t|-u|-f SERVICE [opts]`: like [`render`] for one service, and
/// like ipvsadm without the version line. JSON gives the one [`ServiceView`].
pub fn render_service(entry: &ServiceEntry, opts: &Options) -> String {
    if opts.format == Format::Json {
        return json::render_service(entry, opts);
    }
    let mut out = layout::title(opts);
    layout::service(&mut out, entry, opts);
    out
}

//! Network setup errors. Each names the object (interface, address, route),
//! the errno, and what a person can do about it.

use super::exec::Failure;
use super::plan::{Change, MissingInterfaces};
use nix::errno::Errno;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot start the netlink client: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot open a route netlink socket: {0} (the agent needs Linux and CAP_NET_ADMIN)")]
    Connect(#[source] std::io::Error),
    #[error("cannot read the kernel's links, addresses and routes: {0}")]
    Dump(String),
    /// Nothing was changed: the plan needs interfaces this machine lacks.
    #[error("{0}")]
    NoSuchInterface(MissingInterfaces),
    /// The kernel refused `change`; the changes in `applied` went through
    /// before it (and are in the record), the rest were not tried.
    #[error("cannot {}: {failure}: {hint}{}", action(change), applied_note(applied))]
    Refused { change: Box<Change>, failure: Failure, hint: String, applied: Vec<Change> },
    /// The record could not be written after the changes in `applied` (the
    /// rest were not tried): what they added now looks like someone else's
    /// and will not be removed.
    #[error("{source}; {} changes were applied and the rest not tried; a later apply will not remove what was added", applied.len())]
    Record { source: crate::record::RecordError, applied: Vec<Change> },
}

fn action(change: &Change) -> String {
    match change {
        Change::LinkUp { name } => format!("bring interface {name} up"),
        Change::Mtu { name, to, .. } => format!("set the MTU of {name} to {to}"),
        Change::AddAddress(a) => format!("add {a}"),
        Change::DelAddress(a) => format!("remove {a}"),
        Change::AddRoute(r) => format!("add {r}"),
        Change::DelRoute(r) => format!("remove {r}"),
    }
}

fn applied_note(applied: &[Change]) -> String {
    match applied.len() {
        0 => String::new(),
        1 => " (1 change was applied before it)".into(),
        n => format!(" ({n} changes were applied before it)"),
    }
}

/// What a person can do about `failure` of `change`.
pub fn hint(change: &Change, failure: &Failure) -> String {
    let Failure::Errno(errno) = failure else {
        return "this is a bug in the agent or an unexpected kernel answer: please report it".into();
    };
    match (errno, change) {
        (Errno::EPERM, _) => "the agent needs CAP_NET_ADMIN: run it as root".into(),
        (Errno::ENODEV, _) => format!("interface {} disappeared while the agent was applying: check `ip link`", interface(change)),
        (Errno::EINVAL, Change::Mtu { name, .. }) => format!(
            "the driver of {name} does not take this MTU: use one between its minmtu and maxmtu (`ip -d link show {name}`)"
        ),
        (Errno::EACCES, Change::AddAddress(a)) if a.net.addr().is_ipv6() => format!(
            "IPv6 is disabled on {0} (net.ipv6.conf.{0}.disable_ipv6 = 1): enable it or drop the IPv6 address",
            a.interface
        ),
        (Errno::EEXIST, Change::AddAddress(a)) => format!(
            "{} appeared while the agent was applying (or with another prefix length): check `ip addr show {}`",
            a.net.addr(),
            a.interface
        ),
        (Errno::EEXIST, Change::AddRoute(r)) => format!(
            "a route to the same destination with metric {} exists and the agent did not add it (DHCP or a person did): \
             give this route another `metric`, or remove the other one",
            r.metric
        ),
        (Errno::ENETUNREACH | Errno::EHOSTUNREACH, Change::AddRoute(r)) => match r.gateway {
            Some(gw) => format!(
                "gateway {gw} is not in the network of any address{}: add an address in its network, \
                 or a route to the gateway listed before this one",
                r.interface.as_ref().map(|i| format!(" on {i}")).unwrap_or_default()
            ),
            None => "the interface has no address for this route: add one".into(),
        },
        (Errno::EINVAL, Change::AddRoute(_)) => {
            "the kernel refuses this route as written: `via` must be a unicast address on an attached network, \
             and `to` a network with no host bits"
                .into()
        }
        (Errno::EINVAL, Change::AddAddress(_)) => "the kernel refuses this address: check its prefix length".into(),
        (Errno::ENETDOWN, _) => format!("interface {} is down and could not be brought up", interface(change)),
        _ => "see the errno; `ip addr`, `ip route` and `ip link` show what the kernel has".into(),
    }
}

fn interface(change: &Change) -> &str {
    match change {
        Change::LinkUp { name } | Change::Mtu { name, .. } => name,
        Change::AddAddress(a) | Change::DelAddress(a) => &a.interface,
        Change::AddRoute(r) | Change::DelRoute(r) => r.interface.as_deref().unwrap_or("(chosen by the kernel)"),
    }
}

//! Carries out planned changes through rtnetlink, one request each. It decides
//! nothing: the plan already says what to touch.

use super::desired::Route;
use super::observed::Observed;
use super::plan::Change;
use ipnet::IpNet;
use nix::errno::Errno;
use rtnetlink::packet_route::route::{RouteHeader, RouteProtocol, RouteScope};
use rtnetlink::{AddressMessageBuilder, Handle, LinkUnspec, RouteMessageBuilder};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why one change failed: the kernel's errno when it answered with one.
#[derive(Debug)]
pub enum Failure {
    Errno(Errno),
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Errno(e) => write!(f, "{e}"),
            Failure::Other(s) => f.write_str(s),
        }
    }
}

impl From<rtnetlink::Error> for Failure {
    fn from(e: rtnetlink::Error) -> Self {
        match &e {
            rtnetlink::Error::NetlinkError(msg) => match msg.code {
                Some(code) => Failure::Errno(Errno::from_raw(-code.get())),
                None => Failure::Other(e.to_string()),
            },
            _ => Failure::Other(e.to_string()),
        }
    }
}

pub async fn execute(handle: &Handle, observed: &Observed, change: &Change) -> Result<(), Failure> {
    let index = |name: &str| observed.link(name).map(|l| l.index).ok_or(Failure::Errno(Errno::ENODEV));
    match change {
        Change::LinkUp { name } => {
            let msg = LinkUnspec::new_with_index(index(name)?).up().build();
            handle.link().set(msg).execute().await?;
        }
        Change::Mtu { name, to, .. } => {
            let msg = LinkUnspec::new_with_index(index(name)?).mtu(*to).build();
            handle.link().set(msg).execute().await?;
        }
        Change::AddAddress(a) => {
            handle.address().add(index(&a.interface)?, a.net.addr(), a.net.prefix_len()).execute().await?;
        }
        Change::DelAddress(a) => {
            let i = index(&a.interface)?;
            let msg = match a.net.addr() {
                IpAddr::V4(v4) => {
                    AddressMessageBuilder::<Ipv4Addr>::new().index(i).address(v4, a.net.prefix_len()).build()
                }
                IpAddr::V6(v6) => {
                    AddressMessageBuilder::<Ipv6Addr>::new().index(i).address(v6, a.net.prefix_len()).build()
                }
            };
            // Gone already is what was wanted.
            match handle.address().del(msg).execute().await.map_err(Failure::from) {
                Err(Failure::Errno(Errno::EADDRNOTAVAIL)) => {}
                other => other?,
            }
        }
        Change::AddRoute(r) => {
            let msg = route_message(r, observed, RouteAction::Add)?;
            handle.route().add(msg).execute().await?;
        }
        Change::DelRoute(r) => {
            let msg = route_message(r, observed, RouteAction::Delete)?;
            match handle.route().del(msg).execute().await.map_err(Failure::from) {
                Err(Failure::Errno(Errno::ESRCH)) => {}
                other => other?,
            }
        }
    }
    Ok(())
}

#[derive(PartialEq)]
enum RouteAction {
    Add,
    Delete,
}

fn route_message(
    r: &Route,
    observed: &Observed,
    action: RouteAction,
) -> Result<rtnetlink::packet_route::route::RouteMessage, Failure> {
    let mut b = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(r.destination.addr(), r.destination.prefix_len())
        .map_err(invalid)?
        .table_id(u32::from(RouteHeader::RT_TABLE_MAIN))
        .priority(r.metric);
    if let Some(gw) = r.gateway {
        b = b.gateway(gw).map_err(invalid)?;
    }
    if let Some(name) = &r.interface {
        let link = observed.link(name).ok_or(Failure::Errno(Errno::ENODEV))?;
        b = b.output_interface(link.index);
    }
    b = match action {
        // As `ip route add`: a route with no gateway is on-link.
        RouteAction::Add if r.gateway.is_none() && matches!(r.destination, IpNet::V4(_)) => b.scope(RouteScope::Link),
        RouteAction::Add => b,
        // As `ip route del`: any scope and protocol, matched on the rest.
        RouteAction::Delete => b.scope(RouteScope::NoWhere).protocol(RouteProtocol::Unspec),
    };
    Ok(b.build())
}

fn invalid(e: impl std::fmt::Display) -> Failure {
    Failure::Other(e.to_string())
}

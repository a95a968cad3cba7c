//! Bringing `lo` up, as every init does before anything else uses the network.
//!
//! IPVS needs it even on a director whose config names no interface: until some
//! route exists the kernel has no local routing table, `inet_addr_type` calls
//! every IPv4 address a broadcast address, and adding a real server fails with
//! EINVAL (ip_vs_new_dest). Bringing lo up adds 127.0.0.0/8 to the local table.

use neli::consts::nl::{NlmF, Nlmsg};
use neli::consts::rtnl::{Arphrd, Iff, RtAddrFamily, Rtm};
use neli::consts::socket::NlFamily;
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::utils::Groups;

#[derive(Debug, thiserror::Error)]
#[error("cannot bring the loopback interface lo up: {0}")]
pub struct LoopbackError(String);

/// Sets IFF_UP on `lo`. Idempotent: the kernel acks it when lo is already up.
pub fn up() -> Result<(), LoopbackError> {
    let fail = |e: &dyn std::fmt::Display| LoopbackError(e.to_string());
    let index = nix::net::if_::if_nametoindex("lo").map_err(|e| fail(&e))?;
    let msg = IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::Unspecified)
        .ifi_type(Arphrd::from(0))
        .ifi_index(index as i32)
        .ifi_flags(Iff::UP)
        .ifi_change(Iff::UP)
        .build()
        .map_err(|e| fail(&e))?;
    let request = NlmsghdrBuilder::default()
        .nl_type(Rtm::Newlink)
        .nl_flags(NlmF::REQUEST | NlmF::ACK)
        .nl_seq(1)
        .nl_payload(NlPayload::Payload(msg))
        .build()
        .map_err(|e| fail(&e))?;
    let socket = NlSocketHandle::connect(NlFamily::Route, None, Groups::empty()).map_err(|e| fail(&e))?;
    socket.send(&request).map_err(|e| fail(&e))?;
    let (replies, _) = socket.recv::<Nlmsg, Ifinfomsg>().map_err(|e| fail(&e))?;
    for reply in replies {
        let reply: Nlmsghdr<Nlmsg, Ifinfomsg> = reply.map_err(|e| fail(&e))?;
        if let NlPayload::Err(e) = reply.nl_payload() {
            return Err(LoopbackError(nix::errno::Errno::from_raw(-*e.error()).to_string()));
        }
    }
    Ok(())
}

//! Finding the kernel's IPVS generic netlink family: the first thing the agent
//! needs from ip_vs, and proof that the module is loaded.

use neli::consts::socket::NlFamily;
use neli::router::synchronous::NlRouter;
use neli::utils::Groups;

/// The family name ip_vs registers (IPVS_GENL_NAME).
pub const NAME: &str = "IPVS";

#[derive(Debug, thiserror::Error)]
pub enum FamilyError {
    #[error("cannot open a generic netlink socket: {0}")]
    Socket(String),
    #[error("the kernel has no generic netlink family \"IPVS\" ({0}): is the ip_vs module loaded?")]
    Missing(String),
}

/// The family's id, which every IPVS message is addressed to.
pub fn resolve() -> Result<u16, FamilyError> {
    let (router, _) =
        NlRouter::connect(NlFamily::Generic, None, Groups::empty()).map_err(|e| FamilyError::Socket(e.to_string()))?;
    router.resolve_genl_family(NAME).map_err(|e| {
        FamilyError::Missing(match &e {
            // The kernel's answer is an errno; the rest of neli's message is the request echoed back.
            neli::err::RouterError::Nlmsgerr(m) => std::io::Error::from_raw_os_error(-*m.error()).to_string(),
            other => other.to_string(),
        })
    })
}

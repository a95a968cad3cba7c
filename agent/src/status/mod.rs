//! `lvs-agent status`: the kernel's IPVS table in `ipvsadm -Ln`'s layout, or as JSON.

//! The IPVS generic netlink client: every command of include/uapi/linux/ip_vs.h.

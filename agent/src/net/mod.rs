//! Network setup. For now only the loopback interface; links, addresses, routes
//! and sysctls from the config come with issue 5.

pub mod loopback;

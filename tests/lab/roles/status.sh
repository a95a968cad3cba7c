# Run on a lab director by busybox nc for the one client that connects to its
# status port (lvs_tests::roles::run::STATUS_PORT): the IPVS table as the agent
# prints it, then its counters. Output goes to the connection.
/bin/lvs-agent status 2>&1
echo
# Linux 6.1 folds the per-CPU counters into what netlink reports only from
# its 2 s estimator timer: read sooner, the last requests are missing.
/bin/busybox sleep 2.1
/bin/lvs-agent status --stats 2>&1

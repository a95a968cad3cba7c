# Run on the health lab's director by busybox nc (`nc -ll`: one sh per
# connection) for each poll of its status port (lvs_tests::health::STATUS_PORT):
# the IPVS table as the agent reads it back from the kernel.
/bin/lvs-agent status 2>&1

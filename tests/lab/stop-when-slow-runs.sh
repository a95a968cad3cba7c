# Lab test (lab_boot), run by busybox sh inside the guest as the test hook:
# once the slow workload says it runs, ask PID 1 to power off.
bb=/bin/busybox
i=0
while [ $i -lt 300 ]; do
    if $bb grep -q "slow: ready" /run/lvs/agent.log 2>/dev/null; then
        echo "lab: slow workload runs; SIGTERM to PID 1"
        $bb kill -TERM 1
        exit 0
    fi
    $bb sleep 0.1
    i=$((i + 1))
done
echo "lab: the slow workload did not start within 30 s"
exit 1

# Lab test (c), run by busybox sh inside the guest: kill -9 the agent, then wait
# (at most 15 s) until PID 1 has started a new one and it is ready.
bb=/bin/busybox
old=$($bb cat /run/lvs/agent.pid)
$bb kill -9 "$old"
i=0
while [ $i -lt 150 ]; do
    new=$($bb cat /run/lvs/agent.pid 2>/dev/null)
    if [ -n "$new" ] && [ "$new" != "$old" ] && [ -e /run/lvs/ready ]; then
        echo "lab: agent restarted: pid $old -> $new"
        exit 0
    fi
    $bb sleep 0.1
    i=$((i + 1))
done
echo "lab: agent not restarted within 15 s"
exit 1

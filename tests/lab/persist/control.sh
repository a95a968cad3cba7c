# Run on the persist lab's director by busybox nc (`nc -ll`: one sh per
# connection) for each message to its control port
# (lvs_tests::persist::CONTROL_PORT). The first line is a verb; the reply goes
# back on the connection.
#   status  the IPVS table, as `lvs-agent status` reads it from the kernel
#   swap    the rest of the message (up to EOF) becomes the running config
#           file, atomically: written beside it, then renamed over it, as an
#           operator's tool would. Replies "swap bytes=N sha256=HEX" of what
#           landed, so the test knows the file is the one it sent
#   kill    kill -9 the agent (PID 1 restarts it); replies "kill pid=N"
#   log     the agent's log file, /run/lvs/agent.log (every agent's lines)
#   reboot  replies "reboot", then ctrl-alt-del (SIGINT) to PID 1: it stops
#           the agent, syncs and reboots (qemu, run with -no-reboot, exits)
bb=/bin/busybox
config=/etc/lvs/appliance.ron

read -r verb
case $verb in
status) /bin/lvs-agent status 2>&1 ;;
swap)
    $bb cat >"$config.swap" || { echo "error: cannot write $config.swap"; exit 1; }
    $bb mv "$config.swap" "$config" || { echo "error: cannot rename over $config"; exit 1; }
    bytes=$($bb wc -c <"$config")
    set -- $($bb sha256sum "$config")
    echo "swap bytes=$bytes sha256=$1"
    ;;
kill)
    pid=$($bb cat /run/lvs/agent.pid)
    kill -9 "$pid" && echo "kill pid=$pid"
    ;;
log) $bb cat /run/lvs/agent.log ;;
reboot)
    echo reboot
    kill -INT 1
    ;;
*) echo "error: unknown verb '$verb'"; exit 1 ;;
esac

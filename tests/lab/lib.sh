# Helpers for lab scripts, sourced by busybox sh inside a test image
# (`. /lab/lib.sh`). Needs /bin/busybox and a VM booted with VmSpec::capture().
bb=/bin/busybox

# Output goes to ttyS1, which the host captures to a file and nothing else
# writes to: on the console, kernel and agent log lines can cut into it.
# Raw mode so bytes arrive as written (no \n -> \r\n); the host copes either way.
$bb stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1

# section NAME CMD [ARG...]: runs CMD and writes its stdout between
# "=== BEGIN NAME" and "=== END NAME status=N" lines, then its stderr, if
# any, as section NAME.stderr. Output is buffered in a file first so a
# missing final newline can be marked (noeol) instead of gluing the END
# line to it. Returns CMD's status. The host side is Vm::sections.
# `local`: callers keep their own $name and $status.
section() {
    local name=$1 status
    shift
    "$@" >/tmp/lab-out 2>/tmp/lab-err
    status=$?
    lab_emit "$name" /tmp/lab-out "status=$status"
    if [ -s /tmp/lab-err ]; then
        lab_emit "$name.stderr" /tmp/lab-err ""
    fi
    return $status
}

lab_emit() {
    local noeol=
    if [ -s "$2" ] && [ -n "$($bb tail -c 1 "$2")" ]; then
        noeol=" noeol"
    fi
    {
        echo "=== BEGIN $1"
        $bb cat "$2"
        if [ -n "$noeol" ]; then echo; fi
        echo "=== END $1${3:+ $3}$noeol"
    } >&3
}

# IPVS refuses an IPv4 real server the guest has no unicast route to
# (ip_vs_ctl.c: inet_addr_type() must be RTN_UNICAST or RTN_LOCAL), and an
# image's config may use any addresses. A default route on eth0 makes every
# address routable; the VM's NIC must be on a lab bridge, so nothing it might
# send leaves the test's namespace. `replace`: the agent may have set them.
lab_route() {
    $bb ip link set eth0 up &&
        $bb ip addr replace 192.0.2.254/24 dev eth0 &&
        $bb ip route replace default via 192.0.2.1 dev eth0
}

# The agent PID 1 runs may program or reconcile the IPVS table from the
# image's own config; a script that owns the table for a while stops it
# (SIGSTOP: PID 1 only restarts agents that exit) and lets it go on at the
# end, so that the power-off does not wait 5 s to SIGKILL a stopped agent.
pause_agent() {
    $bb kill -STOP "$($bb cat /run/lvs/agent.pid)"
}
resume_agent() {
    $bb kill -CONT "$($bb cat /run/lvs/agent.pid)"
}

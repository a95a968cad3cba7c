# make bench, inside the guest: the same IPVS table programmed three ways, and
# a no-op re-apply, each timed with /proc/uptime (10 ms steps; the runs take
# seconds). Files come from the bench runner (tests/src/bin/bench.rs).
. /lab/lib.sh
pause_agent
section route lab_route

# uptime in centiseconds
now() {
    read up _ </proc/uptime
    echo "${up%.*}${up#*.}"
}

# timed LABEL CMD...: runs CMD with output discarded, prints "LABEL <cs> status=N".
# (Not $name: sh has no locals, and section() uses that one.)
timed() {
    label=$1
    shift
    t0=$(now)
    "$@" >/dev/null 2>/tmp/bench-err
    rc=$?
    t1=$(now)
    echo "$label $((t1 - t0)) status=$rc"
    $bb head -c 2000 /tmp/bench-err
}

count() {
    /sbin/ipvsadm -S -n | $bb wc -l
}

run() {
    /sbin/ipvsadm -C
    timed agent-apply /bin/lvs-agent apply /lab/bench.ron
    echo "agent-apply-rules $(count)"
    timed agent-noop /bin/lvs-agent apply /lab/bench.ron
    /bin/lvs-agent apply /lab/bench.ron | $bb tail -n 1
    /sbin/ipvsadm -C
    timed ipvsadm-restore $bb sh -c '/sbin/ipvsadm -R </lab/bench.rules'
    echo "ipvsadm-restore-rules $(count)"
    /sbin/ipvsadm -C
    if [ -s /lab/bench-per-rule.sh ]; then
        timed ipvsadm-per-rule $bb sh /lab/bench-per-rule.sh
        echo "ipvsadm-per-rule-rules $(count)"
        /sbin/ipvsadm -C
    fi
}
section bench run
resume_agent

# lab_ipvs (a): for each director config given as an argument, the agent
# applies it to an emptied table and the real ipvsadm reads back what the
# kernel holds; applying again and planning must then find nothing to do;
# `lvs-agent save` (both formats) and `restore` give the same table back.
# Run by busybox sh as lvs.run; output on ttyS1 (see lib.sh). The host
# compares the sections (tests/tests/lab_ipvs.rs).
. /lab/lib.sh
pause_agent
section route lab_route
ipvsadm=/sbin/ipvsadm
agent=/bin/lvs-agent
for f in "$@"; do
    n=${f##*/}
    n=${n%.ron}
    section "$n/clear" $ipvsadm -C
    # -C keeps the timeouts: a file that sets none must leave these.
    section "$n/timeout-before" $ipvsadm -L --timeout
    section "$n/apply" $agent apply "$f"
    section "$n/save" $ipvsadm -S -n
    section "$n/list" $ipvsadm -Ln
    section "$n/status" $agent status
    section "$n/timeout" $ipvsadm -L --timeout
    section "$n/thresholds" $ipvsadm -Ln --thresholds
    section "$n/reapply" $agent apply "$f"
    section "$n/plan" $agent plan "$f"
    # save and restore: the table out as ipvsadm rules and as a state file,
    # emptied, and back from each.
    section "$n/save-ipvsadm" $agent save --format ipvsadm
    $agent save --format ipvsadm > "/tmp/$n.rules"
    $agent save -o "/tmp/$n.state"
    $ipvsadm -C
    section "$n/restore-state" $agent restore "/tmp/$n.state"
    section "$n/restored-state" $ipvsadm -Ln
    $ipvsadm -C
    section "$n/restore-rules" $agent restore "/tmp/$n.rules"
    section "$n/restored-rules" $ipvsadm -Ln
done
resume_agent

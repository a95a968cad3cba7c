# lab_ipvs (c): edits to an applied config, in one boot. One weight changed
# is one edit in the kernel; then a whole table with sync daemons is edited:
# a service changed, a real server and a service removed, the daemons kept.
# Run by busybox sh as lvs.run; output on ttyS1 (see lib.sh).
. /lab/lib.sh
pause_agent
section route lab_route
ipvsadm=/sbin/ipvsadm
agent=/bin/lvs-agent
section clear $ipvsadm -C
section first $agent apply /lab/director.ron
section list-first $ipvsadm -Ln
section plan $agent plan /lab/director-weight.ron
section second $agent apply /lab/director-weight.ron
section list-second $ipvsadm -Ln

section edit/clear $ipvsadm -C
section edit/first $agent apply /lab/ipvs-edit-1.ron
section edit/daemon $ipvsadm -L --daemon
section edit/status-daemon $agent status --daemon
section edit/replan $agent plan /lab/ipvs-edit-1.ron
section edit/plan $agent plan /lab/ipvs-edit-2.ron
section edit/second $agent apply /lab/ipvs-edit-2.ron
section edit/save $ipvsadm -S -n
section edit/daemon-second $ipvsadm -L --daemon
section edit/again $agent plan /lab/ipvs-edit-2.ron
resume_agent

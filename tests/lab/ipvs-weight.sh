# lab_ipvs (c): one weight changed in the config is one edit in the kernel.
# Run by busybox sh as lvs.run; output on ttyS1 (see lib.sh).
. /lab/lib.sh
pause_agent
section route lab_route
section clear /sbin/ipvsadm -C
section first /bin/lvs-agent apply /lab/director.ron
section list-first /sbin/ipvsadm -Ln
section plan /bin/lvs-agent plan /lab/director-weight.ron
section second /bin/lvs-agent apply /lab/director-weight.ron
section list-second /sbin/ipvsadm -Ln
resume_agent

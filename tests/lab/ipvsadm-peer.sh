# lab_ipvsadm: Debian's ipvsadm programs and reads the guest kernel's IPVS
# table (run by busybox sh as lvs.run; output on ttyS1, see lib.sh).
. /lab/lib.sh
pause_agent
section route lab_route
# PID 1 must not pass its blocked signals on (a shell could not `wait`).
section sigblk $bb grep SigBlk /proc/self/status
section clear /sbin/ipvsadm -C
section add-service /sbin/ipvsadm -A -t 192.0.2.10:80 -s rr
section add-dest /sbin/ipvsadm -a -t 192.0.2.10:80 -r 192.0.2.11:80 -g -w 2
section list /sbin/ipvsadm -Ln
section save /sbin/ipvsadm -S -n
section timeout /sbin/ipvsadm -L --timeout
resume_agent

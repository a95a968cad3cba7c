# lab_ipvs (b): the real ipvsadm makes the rules, and `lvs-agent status` must
# read them back exactly as ipvsadm lists them. Run by busybox sh as lvs.run;
# output on ttyS1 (see lib.sh).
. /lab/lib.sh
pause_agent
section route lab_route
ipvsadm=/sbin/ipvsadm
agent=/bin/lvs-agent

# One section per rule, so that a rule the kernel refuses shows by itself.
n=0
rule() {
    n=$((n + 1))
    section "rule-$n" $ipvsadm "$@"
}
rule -C
rule --set 100 20 50
# NAT with port mapping, weight 0, thresholds; a local real server (the
# kernel makes it Local forwarding); DR beside NAT in one service.
rule -A -t 192.0.2.10:80 -s wrr
rule -a -t 192.0.2.10:80 -r 192.0.2.21:8080 -m -w 3 -x 100 -y 50
rule -a -t 192.0.2.10:80 -r 192.0.2.22:8080 -m -w 0
rule -a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 1
rule -a -t 192.0.2.10:80 -r 192.0.2.254:80 -g -w 7
# fwmark services, v4 and v6, persistent with a netmask / prefix.
rule -A -f 1 -s lc -p 300 -M 255.255.255.0
rule -a -f 1 -r 192.0.2.24 -g -w 1
rule -a -f 1 -r 192.0.2.25 -g -w 2
rule -A -f 2 -6 -s wlc -p 600 -M 64
rule -a -f 2 -6 -r [2001:db8::24]:0 -g
# An IPv6 service.
rule -A -t [2001:db8::10]:443 -s sed
rule -a -t [2001:db8::10]:443 -r [2001:db8::21]:8443 -m -w 2
rule -a -t [2001:db8::10]:443 -r [2001:db8::22]:8443 -m
# sh and mh with their flags.
rule -A -t 192.0.2.11:443 -s sh -b sh-fallback,sh-port
rule -a -t 192.0.2.11:443 -r 192.0.2.26:443 -g
rule -a -t 192.0.2.11:443 -r 192.0.2.27:443 -g -w 4
rule -A -t 192.0.2.12:80 -s mh -b mh-fallback,mh-port
rule -a -t 192.0.2.12:80 -r 192.0.2.28:80 -g -w 5
# UDP: one-packet scheduling; the SIP persistence engine.
rule -A -u 192.0.2.13:53 -s nq -o
rule -a -u 192.0.2.13:53 -r 192.0.2.29:5353 -m
rule -A -u 192.0.2.14:5060 -s lblc -p 120 --pe sip
rule -a -u 192.0.2.14:5060 -r 192.0.2.30:5060 -g
# Tunnels of every kind and checksum mode, and an IPv6 real server of an
# IPv4 service (mixed families: tunnels only).
rule -A -t 192.0.2.15:80 -s lblcr
rule -a -t 192.0.2.15:80 -r 192.0.2.31 -i --tun-type gue --tun-port 6080 --tun-csum
rule -a -t 192.0.2.15:80 -r 192.0.2.32 -i --tun-type gue --tun-port 6081 --tun-remcsum
rule -a -t 192.0.2.15:80 -r 192.0.2.33 -i --tun-type gue --tun-port 6082 --tun-nocsum
rule -a -t 192.0.2.15:80 -r 192.0.2.34 -i --tun-type gre --tun-csum
rule -a -t 192.0.2.15:80 -r 192.0.2.35 -i
rule -a -t 192.0.2.15:80 -r [2001:db8::35]:80 -i -w 3
# Port 0 with bare -p; SCTP; ovf; thresholds without weights.
rule -A -t 192.0.2.16:0 -s dh -p
rule -a -t 192.0.2.16:0 -r 192.0.2.36 -g
rule -A --sctp-service 192.0.2.17:9999 -s fo
rule -a --sctp-service 192.0.2.17:9999 -r 192.0.2.37 -g -w 2 -x 10 -y 5
rule -a --sctp-service 192.0.2.17:9999 -r 192.0.2.38 -g
rule -A -t 192.0.2.18:80 -s ovf
rule -a -t 192.0.2.18:80 -r 192.0.2.39:80 -g -w 4 -x 20
rule -A -t 192.0.2.19:80 -s rr -p 3600 -M 255.255.0.0
rule -a -t 192.0.2.19:80 -r 192.0.2.40:80 -g -w 65535
# A service with no real servers, and a bigger one, so sorting shows.
rule -A -t 198.51.100.10:80 -s wlc
rule -A -t 192.0.2.9:8080 -s rr
for i in 1 2 3 4 5 6 7 8 9; do
    rule -a -t 192.0.2.9:8080 -r 192.0.2.5$i:8080 -m -w $i
done
# Some traffic, so that counters and rates are not all 0: the director's own
# connections go through IPVS too. The SYNs go to real servers nobody
# answers for; nc gives up after a second and the kernel keeps the
# connection entries (InActConn) for a minute.
for target in 192.0.2.10:80 192.0.2.11:443 192.0.2.12:80 192.0.2.9:8080 192.0.2.9:8080 192.0.2.9:8080; do
    $bb nc -w 1 ${target%:*} ${target#*:} </dev/null >/dev/null 2>&1 &
done
wait
section save $ipvsadm -S -n

# compare NAME IPVSADM-ARGS -- AGENT-STATUS-ARGS: ipvsadm, the agent, ipvsadm
# again, until both ipvsadm readings agree (counters and rates move by
# themselves): then the agent read the same table in between. NAME/stable
# names the attempt to compare (empty if none agreed in 5).
compare() {
    name=$1
    shift
    a=
    while [ "$1" != "--" ]; do
        a="$a $1"
        shift
    done
    shift
    stable=
    try=1
    while [ $try -le 5 ]; do
        section "$name/$try/ipvsadm" $ipvsadm $a
        $bb cp /tmp/lab-out /tmp/lab-first
        section "$name/$try/agent" $agent status "$@"
        section "$name/$try/ipvsadm-again" $ipvsadm $a
        if $bb cmp -s /tmp/lab-first /tmp/lab-out; then
            stable=$try
            break
        fi
        try=$((try + 1))
    done
    section "$name/stable" echo $stable
}
compare list -Ln --
compare stats -Ln --stats -- --stats
compare rate -Ln --rate -- --rate
compare exact -Ln --stats --exact -- --stats --exact
compare thresholds -Ln --thresholds -- --thresholds
compare persistent-conn -Ln --persistent-conn -- --persistent-conn
compare tun-info -Ln --tun-info -- --tun-info
compare timeout -L --timeout -- --timeout
compare daemon -L --daemon -- --daemon
resume_agent

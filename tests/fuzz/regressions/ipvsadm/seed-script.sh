#!/bin/sh
# A start script as people write them: variables, case, comments, && chains.
VIP=192.0.2.80
ipvsadm -C
ipvsadm -A -t 192.0.2.80:80 -s wrr -p 300 && ipvsadm -a -t 192.0.2.80:80 -r 192.0.2.21:80 -g -w 2
ipvsadm -a -t 192.0.2.80:80 -r 192.0.2.22 -g -w 1 ; ipvsadm -A -u 192.0.2.80:53 -s rr
ipvsadm -a -u 192.0.2.80:53 -r 192.0.2.21 -m
ipvsadm -A -f 7 -s sh -b sh-fallback,sh-port
ipvsadm -a -f 7 -r 192.0.2.23 -i --tun-type gue --tun-port 6080
ipvsadm --set 900 120 300
ipvsadm --start-daemon master --mcast-interface eth0 --syncid 5

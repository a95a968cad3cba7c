# The demo's client VM (lvs.run=/bin/busybox,sh,/lab/client.sh,VIP:PORT,COUNT):
# asks the VIP as the seed's curl loop does, one new connection per request,
# and prints who answered, one "demo-client:" line each, for
# tests/src/roles/run.rs to read from the console. PID 1 powers the VM off
# when this ends. HTTP/1.0 over busybox nc: the static busybox's wget
# segfaults (static glibc resolver), and nc is all a GET needs.
bb=/bin/busybox
ip=${1%:*}
port=${1##*:}
count=$2

# One GET; prints the body, or fails with the reply's first line in /run/why.
ask() {
    printf 'GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: lab-client\r\n\r\n' "$ip:$port" |
        $bb nc -w 5 "$ip" "$port" 2>/run/why | $bb tr -d '\r' >/run/reply
    if $bb head -n 1 /run/reply | $bb grep -q '^HTTP/1\.[01] 200 '; then
        $bb sed '1,/^$/d' /run/reply
    else
        $bb head -n 1 /run/reply >>/run/why
        return 1
    fi
}

# Warm-up: the director gives a real server traffic only after its first
# passing health check, so ask (for at most 60 s) until two have answered.
seen=" "
n=0
i=0
while [ $n -lt 2 ] && [ $i -lt 300 ]; do
    if body=$(ask) && [ -n "$body" ]; then
        case "$seen" in
            *" $body "*) ;;
            *) seen="$seen$body "; n=$((n + 1)); echo "demo-client: warm-up $body" ;;
        esac
    fi
    $bb sleep 0.2
    i=$((i + 1))
done

k=1
while [ "$k" -le "$count" ]; do
    if body=$(ask); then
        echo "demo-client: $k $body"
    else
        echo "demo-client: $k failed: $($bb tr '\n' ' ' </run/why)"
    fi
    k=$((k + 1))
done
echo "demo-client: done"

# Run on a health lab real server by busybox nc (`nc -ll`: one sh per
# connection) for each message to its control port
# (lvs_tests::health::CONTROL_PORT): one word, and the reply goes back on the
# connection as "VERB pid=N state=S" (S from /proc/N/stat: T stopped, S
# sleeping), or "error: ..." when the verb is unknown or httpd is not found.
#   stop   SIGSTOP httpd: the kernel still completes handshakes into its
#          listen backlog, but nothing answers, so the director's probe runs
#          into its timeout, as with a hung server (a refused connection
#          would be the easy case)
#   cont   SIGCONT httpd
#   state  only the reply
bb=/bin/busybox

# The workload is /bin/busybox itself, so pidof cannot tell httpd from this
# shell or nc: its command line can. One ps rather than a tr per /proc entry:
# under TCG each fork costs milliseconds, and the reply time counts against
# the director in the test.
httpd_pid() {
    $bb ps -o pid,args | while read -r pid args; do
        case $args in
        "/bin/busybox httpd "*) echo "$pid"; return 0 ;;
        esac
    done
}

read -r verb
pid=$(httpd_pid)
[ -n "$pid" ] || { echo "error: no httpd process"; exit 1; }
# The third field of stat, after "PID (comm) "; ash's read and kill are
# builtins, no fork.
state() {
    read -r _ _ state _ <"/proc/$pid/stat"
}
case $verb in
stop)
    kill -STOP "$pid"
    # A signal takes effect when httpd next runs: wait for it, so that
    # state=T in the reply means the server hangs from then on.
    n=0
    state
    while [ "$state" != T ] && [ $n -lt 100 ]; do
        $bb usleep 10000
        n=$((n + 1))
        state
    done
    ;;
cont) kill -CONT "$pid" ;;
state) ;;
*) echo "error: unknown verb '$verb'"; exit 1 ;;
esac
state
echo "$verb pid=$pid state=$state"

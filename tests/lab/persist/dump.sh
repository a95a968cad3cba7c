# The persist lab's hook for a director booted on a damaged state file
# (tests/tests/lab_persist.rs): run by PID 1 once the agent is ready, it
# writes the IPVS table and the agent's log to ttyS1 (sections `status` and
# `log`, see tests/lab/lib.sh) and exits, so that PID 1 stops the agent and
# powers off: the agent saves its state at stop, and the test reads it from
# the disk afterwards.
. /lab/lib.sh
section status /bin/lvs-agent status
section log $bb cat /run/lvs/agent.log

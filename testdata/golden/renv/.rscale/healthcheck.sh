#!/bin/sh
# rscale health check: can this R process serve? Written by rscale test; Docker runs it.
# R serves one request at a time, so while it works on a long one its health endpoint cannot
# answer. The replica still counts as healthy while its current request started less than
# REQUEST_TIMEOUT seconds ago (the launcher notes each request's start in BUSY_FILE); past
# that, R is stuck and Swarm replaces it. A replica that does not answer and is not busy
# (crashed, or never started) is unhealthy.
#
# When it runs: Docker starts this script 1 s after its last run ended, and each run costs the
# engine about 80 ms of CPU (an exec in the container) whatever the script does. So a new
# replica is checked as soon as R serves, and is healthy the moment it answers; a replica
# that passed its last check waits HEALTH_PAUSE seconds here before the next one, so idle
# replicas cost little. Once a check fails, the next ones run at once, and three failures in
# a row make the replica unhealthy: a stuck R is found within about a minute.
state=${HEALTH_STATE:-/tmp/rscale-healthy}

# PID 1 starts anew when the container restarts, and so does the pause.
read -r pid1 < /proc/1/stat
set -- $pid1
shift 21
boot=$1

passed() {
  echo "$boot" > "$state"
  exit 0
}

last=""
[ -f "$state" ] && read -r last < "$state"
if [ "$last" = "$boot" ]; then
  sleep "${HEALTH_PAUSE:-50}"
elif [ -n "${READY_FIFO}" ]; then
  # Starting, or failed last time: wait for R to serve. The launcher holds READY_FIFO open
  # from then on, so opening it returns at once; until then the open blocks without using
  # any CPU (polling costs processes, and a hundred replicas starting on two cores feel
  # it). An R that never serves is ended by Docker's timeout, which counts as a failure.
  [ -p "$READY_FIFO" ] || mkfifo "$READY_FIFO" 2>/dev/null
  : < "$READY_FIFO"
fi

curl -fsS --max-time 3 "http://127.0.0.1:${PORT}${HEALTH_PATH}" > /dev/null
status=$?
[ "$status" -eq 0 ] && passed
if [ "$status" -eq 28 ] && [ -f "${BUSY_FILE}" ]; then
  started=$(stat -c %Y "${BUSY_FILE}")
  [ $(( $(date +%s) - started )) -lt "${REQUEST_TIMEOUT:-300}" ] && passed
fi
rm -f "$state"
exit 1

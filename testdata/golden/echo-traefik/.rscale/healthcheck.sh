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
# replica is checked as soon as R listens, and is healthy the moment it answers; a replica
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

# Whether R listens on PORT, read from /proc/net without starting a process.
listening() {
  port=$(printf ':%04X' "$PORT")
  for table in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$table" ] || continue
    while read -r _ local _ st _; do
      [ "$st" = 0A ] && case "$local" in *"$port") return 0 ;; esac
    done < "$table"
  done
  return 1
}

last=""
[ -f "$state" ] && read -r last < "$state"
if [ "$last" = "$boot" ]; then
  sleep "${HEALTH_PAUSE:-50}"
else
  # Starting, or failed last time: wait up to 50 s for R to listen.
  waited=0
  while ! listening && [ "$waited" -lt 200 ]; do
    sleep 0.25
    waited=$((waited + 1))
  done
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

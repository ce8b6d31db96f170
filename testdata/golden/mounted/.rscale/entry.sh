#!/bin/sh
# rscale entry point: runs the API's R process (the command given, the Dockerfile's CMD) and,
# when the engine stops the replica (SIGTERM: scale-down, rolling update), drains it first.
# Written by rscale test; `rscale init --force` rewrites it.
#
# R serves one request at a time and dies at once on SIGTERM, losing the request it serves.
# So this script gets the signal instead, and:
#  1. takes the replica out of the proxy's rotation: it removes ALIVE_FILE, which the launcher
#     has httpuv serve at /__rscale/alive, the path HAProxy's health check asks. The check then gets
#     a 404, and HAProxy stops sending the replica requests at once (http-check disable-on-404
#     in haproxy.cfg); Kubernetes' readiness probe asks the same path;
#  2. waits 4 s for the proxy to notice: HAProxy checks every 2 s, and a check under way
#     as the file went may still have passed, so two checks. A request sent meanwhile is served;
#  3. waits while R serves a request (BUSY_FILE, which the launcher creates as each request
#     starts and removes once it is answered), for at most REQUEST_TIMEOUT seconds after that
#     request started: the proxy gives up on it then;
#  4. sends R SIGTERM and exits with R's exit status.
# The stack file's stop_grace_period leaves time for all of this before the engine's SIGKILL.
alive=${ALIVE_FILE:-/tmp/rscale-alive}
busy=${BUSY_FILE:-/tmp/rscale-busy}
timeout=${REQUEST_TIMEOUT:-300}

stopping=""
trap 'stopping=1' TERM INT

# busy: R is serving a request younger than REQUEST_TIMEOUT. A request that failed leaves
# BUSY_FILE behind (plumber skips the launcher's hook after an error), so R answering its
# health endpoint, which it does only between requests, also means it is free.
busy() {
  started=$(stat -c %Y "$busy" 2>/dev/null) || return 1
  [ $(( $(date +%s) - started )) -lt "$timeout" ] || return 1
  ! curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:${PORT}${HEALTH_PATH}" 2>/dev/null
}

drain() {
  rm -f "$alive"
  echo "rscale: stopping: this replica takes no new requests, and ends once its current one is answered (at most ${timeout} s)" >&2
  sleep 4
  while busy; do
    sleep 1
  done
  # httpuv's I/O thread may still be sending the last answer.
  sleep 1
}

"$@" &
child=$!
# wait returns when R exits, or as soon as a signal comes, R still running.
wait "$child"
status=$?
if [ -n "$stopping" ] && kill -0 "$child" 2>/dev/null; then
  drain
  kill -TERM "$child" 2>/dev/null
  # Until R is gone, through any further signals.
  while wait "$child"; status=$?; kill -0 "$child" 2>/dev/null; do :; done
fi
exit "$status"

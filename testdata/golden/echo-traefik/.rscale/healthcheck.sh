#!/bin/sh
# rscale health check: can this R process serve? Written by rscale test; Docker runs it.
# R serves one request at a time, so while it works on a long one its health endpoint cannot
# answer. The replica still counts as healthy while its current request started less than
# REQUEST_TIMEOUT seconds ago (the launcher notes each request's start in BUSY_FILE); past
# that, R is stuck and Swarm replaces it. A replica that does not answer and is not busy
# (crashed, or never started) is unhealthy.
curl -fsS --max-time 3 "http://127.0.0.1:${PORT}${HEALTH_PATH}" > /dev/null
status=$?
[ "$status" -eq 0 ] && exit 0
if [ "$status" -eq 28 ] && [ -f "${BUSY_FILE}" ]; then
  started=$(stat -c %Y "${BUSY_FILE}")
  [ $(( $(date +%s) - started )) -lt "${REQUEST_TIMEOUT:-300}" ] && exit 0
fi
exit 1

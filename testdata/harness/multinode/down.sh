#!/bin/bash
# Removes what up.sh made (same BASE): containers, daemons, registry, namespaces, cgroups and
# data. Idempotent. It ends only processes up.sh started, found by what identifies them as
# its own: the pids it recorded, its nodes' cgroups (/rsmnN, where every container of a node
# runs, even one whose shim is gone), and command lines naming $BASE.
# Nothing is stopped gracefully: the whole swarm goes, so there is nothing to hand over.
BASE=${BASE:-/tmp/rscale-mn}; NS=rsmn

killcgroups() {
  for i in 1 2 3; do
    for procs in $(find /sys/fs/cgroup/memory/$NS$i -name cgroup.procs 2>/dev/null); do
      for pid in $(cat "$procs"); do kill -KILL "$pid" 2>/dev/null; done
    done
  done
}
killcgroups
for i in 1 2 3; do
  pid=$(cat "$BASE/n$i/dockerd.pid" 2>/dev/null) || continue
  # Only a dockerd of this harness: its command line names its own config file.
  grep -qF "$BASE/n$i/daemon.json" "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "$pid"
done
if pid=$(cat "$BASE/registry/pid" 2>/dev/null); then
  grep -qF "$BASE/registry/config.yml" "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "$pid"
fi
for _ in $(seq 60); do
  pgrep -f -- "^dockerd --config-file $BASE/n[123]/|$BASE/registry/config.yml" >/dev/null || break
  sleep 0.5
done
# What is left: a daemon that did not stop, containerd (it normally dies with its dockerd),
# containerd shims, and containers started meanwhile.
for pid in $(pgrep -f -- "$BASE/(n[123]/|registry/config.yml)"); do kill -KILL "$pid" 2>/dev/null; done
killcgroups
for _ in $(seq 20); do pgrep -f -- "$BASE/(n[123]/|registry/config.yml)" >/dev/null || break; sleep 0.5; done

for ns in ${NS}1 ${NS}2 ${NS}3 $NS; do
  [ -e /run/netns/$ns ] && ip netns del $ns
done
for i in 1 2 3; do
  for c in /sys/fs/cgroup/*/$NS$i; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
rm -rf "$BASE/n1" "$BASE/n2" "$BASE/n3" "$BASE/registry"
echo "down.sh: done in ${SECONDS}s"

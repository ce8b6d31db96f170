#!/bin/bash
# A three-node Docker Swarm and an image registry on ONE machine, for rscale's end-to-end tests
# (internal/harness/multinode starts it with this script and removes it with down.sh).
#
#   netns rsmn   : bridge br0 10.213.0.1/24, and the registry on 10.213.0.1:5000
#   netns rsmn1  : dockerd, swarm manager, 10.213.0.11   (socket $BASE/n1/docker.sock)
#   netns rsmn2/3: dockerd, swarm workers, 10.213.0.12/13
#
# The bridge lives in its own namespace, so the host's links and firewall are never touched.
# Each dockerd has its own data-root, exec-root, pidfile, socket and containerd, trusts the
# registry as insecure, and uses address pools (10.214/16 for local networks, 10.215/16 for
# overlays) that clash with nothing on the host nor with the Kubernetes harness (10.250/24).
#
# Usage: BASE=/tmp/rscale-mn up.sh [IMAGE...]
# Each IMAGE of the main engine is copied to the manager (docker save | load), for builds there.
# Needs root, iproute2, util-linux (unshare), Docker Engine, and apt-get (for the registry).
set -euo pipefail
BASE=${BASE:-/tmp/rscale-mn}; NS=rsmn; REG=10.213.0.1:5000
here=$(cd "$(dirname "$0")" && pwd)
D() { local n=$1; shift; docker -H "unix://$BASE/n$n/docker.sock" "$@"; }

for tool in ip unshare dockerd docker apt-get dpkg; do
  command -v $tool >/dev/null || { echo "up.sh needs $tool (apt-get install iproute2 util-linux)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "up.sh needs root (network namespaces, dockerd)" >&2; exit 1; }

# What an interrupted earlier run left.
if ip netns list | grep -qw "^$NS\|^${NS}1"; then BASE=$BASE "$here/down.sh"; fi
mkdir -p "$BASE"

# The registry: Debian's docker-registry (the CNCF distribution registry), unpacked, not
# installed. The unpacked package stays in $BASE/pkg between runs.
if [ ! -x "$BASE/pkg/usr/bin/docker-registry" ]; then
  (cd "$BASE" && rm -f docker-registry_*.deb &&
    { apt-get download docker-registry >/dev/null 2>&1 || { apt-get update -qq && apt-get download docker-registry >/dev/null; }; } &&
    dpkg -x docker-registry_*.deb pkg)
fi

ip netns add $NS
ip netns exec $NS ip link set lo up
ip netns exec $NS ip link add br0 type bridge
ip netns exec $NS ip addr add 10.213.0.1/24 dev br0
ip netns exec $NS ip link set br0 up
for i in 1 2 3; do
  ip netns add $NS$i
  ip netns exec $NS$i ip link set lo up
  ip link add v$i netns $NS$i type veth peer name v${i}b netns $NS
  ip netns exec $NS ip link set v${i}b master br0 up
  ip netns exec $NS$i ip link set v$i name eth0
  ip netns exec $NS$i ip addr add 10.213.0.1$i/24 dev eth0
  ip netns exec $NS$i ip link set eth0 up
  ip netns exec $NS$i ip route add default via 10.213.0.1
done

mkdir -p "$BASE/registry/data"
cat > "$BASE/registry/config.yml" <<EOC
version: 0.1
storage: {filesystem: {rootdirectory: $BASE/registry/data}, delete: {enabled: true}}
http: {addr: "$REG"}
EOC
# Images live in memory (tmpfs), mounted in the mount namespace `ip netns exec` makes: they
# vanish with the last process of that namespace, and nothing is written to disk or left behind.
setsid ip netns exec $NS sh -c "mount -t tmpfs -o mode=700 registry $BASE/registry/data
  exec $BASE/pkg/usr/bin/docker-registry serve $BASE/registry/config.yml" >"$BASE/registry/registry.log" 2>&1 &
echo $! > "$BASE/registry/pid"

for i in 1 2 3; do
  mkdir -p "$BASE/n$i/data" "$BASE/n$i/exec"
  cat > "$BASE/n$i/daemon.json" <<EOC
{"data-root": "$BASE/n$i/data", "exec-root": "$BASE/n$i/exec", "pidfile": "$BASE/n$i/dockerd.pid",
 "hosts": ["unix://$BASE/n$i/docker.sock"], "storage-driver": "overlay2", "bridge": "none",
 "cgroup-parent": "/$NS$i", "insecure-registries": ["$REG"],
 "default-address-pools": [{"base": "10.214.0.0/16", "size": 24}]}
EOC
  # `ip netns exec` mounts a fresh /sys, which hides the cgroup hierarchies: mount them again.
  # Without --config-file, dockerd would read /etc/docker/daemon.json (the main engine's data-root).
  # The host name is the node's name in the swarm, which rscale ps shows.
  setsid ip netns exec $NS$i unshare --uts sh -c "
    set -e; hostname $NS$i
    mount -t tmpfs -o mode=710 data $BASE/n$i/data
    mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
    for c in cpu cpuacct cpuset memory devices freezer blkio pids; do mkdir -p /sys/fs/cgroup/\$c; mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c; done
    mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
    mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
    exec dockerd --config-file $BASE/n$i/daemon.json" >>"$BASE/n$i/dockerd.log" 2>&1 &
done
for i in 1 2 3; do
  for _ in $(seq 120); do D $i version >/dev/null 2>&1 && break; sleep 0.5; done
  D $i version --format "node $i: Docker {{.Server.Version}}" || { tail -20 "$BASE/n$i/dockerd.log" >&2; exit 1; }
done

D 1 swarm init --advertise-addr 10.213.0.11 --listen-addr 10.213.0.11:2377 \
  --default-addr-pool 10.215.0.0/16 --default-addr-pool-mask-length 24 >/dev/null
token=$(D 1 swarm join-token -q worker)
for i in 2 3; do
  D $i swarm join --token "$token" --advertise-addr 10.213.0.1$i --listen-addr 10.213.0.1$i:2377 10.213.0.11:2377 >/dev/null
done
for _ in $(seq 60); do [ "$(D 1 node ls --format '{{.Status}}' | grep -c Ready)" -eq 3 ] && break; sleep 0.5; done
D 1 node ls

for image in "$@"; do
  docker save "$image" | D 1 load -q
done
echo "manager: DOCKER_HOST=unix://$BASE/n1/docker.sock   registry: $REG   reach nodes from: ip netns exec $NS curl http://10.213.0.1N:PORT/"

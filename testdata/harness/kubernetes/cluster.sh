#!/usr/bin/env bash
# A real one-node Kubernetes v1.37.2 cluster for rscale's tests, on this machine, as root:
# etcd, the control plane, a kubelet with its own containerd, kube-proxy and CoreDNS, all in the
# network namespace rscale-k8s (the node is 10.250.0.2, routed from the host), plus an image
# registry on the host that Docker pushes to as 127.0.0.1:5050 and the node pulls from.
#
#   cluster.sh deps      install or unpack the Debian packages it needs
#   cluster.sh build     build (or reuse) the binaries; prints their directory
#   cluster.sh up        start everything; waits until the node is Ready and DNS answers
#   cluster.sh down      stop and remove everything (idempotent); fails if anything is left
#   cluster.sh status    exit 0 when the cluster is up and healthy
#   cluster.sh env       the variables a test or a shell needs (eval "$(cluster.sh env)")
#   cluster.sh kubectl … kubectl on the cluster
#   cluster.sh leftovers list whatever of the cluster is still on the machine
#
# RSCALE_K8S_CACHE (default /var/cache/rscale-k8s) keeps the binaries and packages between runs;
# RSCALE_K8S_DIR (default /tmp/rscale-k8s) holds one run's state and is removed by down; the last
# run's logs are kept in $RSCALE_K8S_CACHE/last-logs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${RSCALE_K8S_CACHE:-/var/cache/rscale-k8s}
# Not under /var/lib: the node hides the host's /var/lib and /var/log in its mount namespace.
DIR=${RSCALE_K8S_DIR:-/tmp/rscale-k8s}
DEB=$CACHE/deb
NETNS=rscale-k8s
HOST_IF=rk8s-host
NODE_IF=rk8s-node
BRIDGE=rk8s-br0
HOST_IP=10.250.0.1
NODE_IP=10.250.0.2
POD_CIDR=10.250.1.0/24
SVC_CIDR=10.250.2.0/24
API_SVC_IP=10.250.2.1
REGISTRY_PORT=5050
NODE_NAME=rscale-node
# kubelet's cgroupRoot (pods) and the cgroup of every process the harness starts: down kills
# whatever is in either, so no containerd shim or container outlives the cluster.
CG_PODS=rscale-k8s
CG_SYS=rscale-k8s-sys
LOCK=/run/rscale-k8s.lock
NS="nsenter --net=/run/netns/$NETNS"

log() { echo "rscale-k8s: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# The hierarchy in which the harness tracks its processes: v1's pids controller, else v2's.
cgtrack() { if [ -d /sys/fs/cgroup/pids ]; then echo /sys/fs/cgroup/pids; else echo /sys/fs/cgroup; fi; }

bin_dir() { "$here/build.sh"; }

cmd_deps() {
	local need=() p
	# Tools used from the host as they are: containerd and runc (Docker's own come from the
	# same packages), iptables for kube-proxy, and the usual system tools.
	for p in containerd:containerd runc:runc ctr:containerd iptables:iptables ip:iproute2 \
		nsenter:util-linux unshare:util-linux flock:util-linux openssl:openssl curl:curl; do
		command -v "${p%%:*}" >/dev/null || need+=("${p##*:}")
	done
	if [ ${#need[@]} -gt 0 ]; then
		log "installing ${need[*]}"
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
	fi
	# Unpacked, not installed: their packages would start services and write host config.
	local pkgs=(etcd-server containernetworking-plugins docker-registry) missing=()
	for p in "${pkgs[@]}"; do [ -f "$DEB/.$p" ] || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	mkdir -p "$DEB"
	local dl
	dl=$(mktemp -d)
	chown _apt "$dl" 2>/dev/null || true # apt-get download fetches as the _apt user
	if ! (cd "$dl" && apt-get download -q "${missing[@]}" >&2); then
		apt-get update -q >&2
		(cd "$dl" && apt-get download -q "${missing[@]}" >&2)
	fi
	for p in "${missing[@]}"; do
		dpkg-deb -x "$dl/${p}"_*.deb "$DEB"
		touch "$DEB/.$p"
	done
	rm -rf "$dl"
}

# A single-layer OCI image archive of a folder, for `ctr images import` (nothing is pulled).
oci_archive() {
	local name=$1 rootfs=$2 out=$3 entrypoint=$4 w diffid lsum lsize csum csize msum msize
	w=$(mktemp -d)
	mkdir -p "$w/blobs/sha256"
	tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf "$w/layer.tar" .
	diffid=$(sha256sum <"$w/layer.tar" | cut -d' ' -f1)
	gzip -n <"$w/layer.tar" >"$w/layer.tgz"
	lsum=$(sha256sum <"$w/layer.tgz" | cut -d' ' -f1)
	lsize=$(stat -c %s "$w/layer.tgz")
	mv "$w/layer.tgz" "$w/blobs/sha256/$lsum"
	printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$entrypoint" "$diffid" >"$w/config"
	csum=$(sha256sum <"$w/config" | cut -d' ' -f1)
	csize=$(stat -c %s "$w/config")
	mv "$w/config" "$w/blobs/sha256/$csum"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
		"$csum" "$csize" "$lsum" "$lsize" >"$w/manifest"
	msum=$(sha256sum <"$w/manifest" | cut -d' ' -f1)
	msize=$(stat -c %s "$w/manifest")
	mv "$w/manifest" "$w/blobs/sha256/$msum"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
		"$msum" "$msize" "$name" >"$w/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$w/oci-layout"
	tar -C "$w" -cf "$out" oci-layout index.json blobs
	rm -rf "$w"
}

kubectl() { "$BIN/k8s" kubectl --kubeconfig "$DIR/admin.kubeconfig" "$@"; }

# Starts a daemon in the background, detached from the caller (its own session, no inherited
# descriptors) so that it outlives this script and never holds a test's pipes open.
daemon() {
	local name=$1
	shift
	setsid "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 9>&- &
	echo $! >"$DIR/pids/$name"
}

wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	die "$what not ready after ${secs}s; logs in $DIR/logs (kept in $CACHE/last-logs after down)"
}

node_ready() {
	kubectl --request-timeout=5s get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

write_configs() {
	local token_admin=$1 token_node=$2 ca
	ca=$(base64 -w0 <"$DIR/pki/ca.crt")
	printf '%s,admin,admin,system:masters\n%s,system:node:%s,%s,system:nodes\n' \
		"$token_admin" "$token_node" "$NODE_NAME" "$NODE_NAME" >"$DIR/pki/tokens.csv"
	for u in admin:$token_admin node:$token_node; do
		cat >"$DIR/${u%%:*}.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: rscale-k8s
  cluster: {server: "https://$NODE_IP:6443", certificate-authority-data: $ca}
users:
- name: ${u%%:*}
  user: {token: ${u##*:}}
contexts:
- name: rscale-k8s
  context: {cluster: rscale-k8s, user: ${u%%:*}}
current-context: rscale-k8s
EOF
	done
	chmod 600 "$DIR"/*.kubeconfig

	cat >"$DIR/cni/10-rscale-k8s.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "rscale-k8s", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "dataDir": "$DIR/state/ipam",
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "loopback"}]}
EOF

	# restrict_oom_score_adj: runc may not lower OOM scores on this machine (no CAP_SYS_RESOURCE).
	cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$DIR/state/containerd"
state = "$DIR/state/containerd-run"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$DIR/state/containerd.sock"
[ttrpc]
  address = "$DIR/state/containerd.sock.ttrpc"
[debug]
  address = "$DIR/state/containerd-debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$DIR/state/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$DEB/usr/lib/cni"
    conf_dir = "$DIR/cni"
  # Images pushed by Docker as 127.0.0.1:$REGISTRY_PORT/... are pulled under the same name
  # from the host's end of the veth.
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."127.0.0.1:$REGISTRY_PORT"]
    endpoint = ["http://$HOST_IP:$REGISTRY_PORT"]
EOF

	cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$CG_PODS
containerRuntimeEndpoint: unix://$DIR/state/containerd.sock
protectKernelDefaults: true
failSwapOn: false
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
podLogsDir: $DIR/state/pod-logs
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
EOF

	cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $DIR/admin.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF

	# The cluster's DNS answers on the node's address, which is every pod's nameserver.
	cat >"$DIR/Corefile" <<EOF
.:53 {
    errors
    health 127.0.0.1:8180
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $DIR/admin.kubeconfig rscale-k8s
        pods insecure
        ttl 5
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 5
    loop
}
EOF

	cat >"$DIR/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $DIR/registry}
  delete: {enabled: true}
http:
  addr: 0.0.0.0:$REGISTRY_PORT
EOF
}

make_pki() {
	local p=$DIR/pki
	openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
	openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" -days 7 -subj /CN=rscale-k8s-ca 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$p/apiserver.key" -out "$p/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null
	echo "subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:$API_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" >"$p/ext"
	openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
		-out "$p/apiserver.crt" -days 7 -extfile "$p/ext" 2>/dev/null
}

# Runs inside the cluster's network namespace and a private mount namespace of its own:
# containerd and the kubelet see their own /var/lib, /var/log and /run/containerd, and the
# kernel settings the kubelet insists on, without any change to the host's.
cmd_node() {
	local m=$DIR/state/node-mnt
	mkdir -p "$m/run-containerd" "$m/var-lib" "$m/var-log"
	mount --bind "$m/run-containerd" /run/containerd 2>/dev/null || {
		mkdir -p /run/containerd
		mount --bind "$m/run-containerd" /run/containerd
	}
	mount --bind "$m/var-lib" /var/lib
	mount --bind "$m/var-log" /var/log
	echo 1 >"$m/overcommit_memory"
	echo 10 >"$m/panic"
	echo 1 >"$m/panic_on_oops"
	mount --bind "$m/overcommit_memory" /proc/sys/vm/overcommit_memory
	mount --bind "$m/panic" /proc/sys/kernel/panic
	mount --bind "$m/panic_on_oops" /proc/sys/kernel/panic_on_oops
	daemon containerd containerd --config "$DIR/containerd.toml"
	wait_for containerd 20 test -S "$DIR/state/containerd.sock"
	ctr -a "$DIR/state/containerd.sock" -n k8s.io images import "$CACHE/images/pause.tar" >/dev/null
	daemon kubelet "$BIN/k8s" kubelet --config="$DIR/kubelet.yaml" --kubeconfig="$DIR/node.kubeconfig" \
		--hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$DIR/state/kubelet"
}

cmd_status() {
	[ -e "/run/netns/$NETNS" ] && [ -f "$DIR/admin.kubeconfig" ] || return 1
	BIN=$(cat "$DIR/bin" 2>/dev/null) || return 1
	kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1 && node_ready &&
		$NS curl -fsS -m 2 -o /dev/null http://127.0.0.1:8181/ready &&
		curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/v2/"
}

cmd_up() {
	exec 9>"$LOCK"
	flock 9
	local i
	# A busy machine can make one health check time out: never take down a cluster in use on
	# the strength of one.
	for ((i = 0; i < 3; i++)); do
		if cmd_status; then
			log "already up"
			cmd_env
			return 0
		fi
		[ -e "/run/netns/$NETNS" ] || break
		sleep 3
	done
	if [ -n "$(cmd_leftovers)" ]; then
		log "removing the remains of an earlier cluster"
		cmd_down_locked
	fi
	local start=$SECONDS
	cmd_deps
	BIN=$(bin_dir)
	if [ ! -f "$CACHE/images/pause.tar" ] || [ "$CACHE/images/pause.tar" -ot "$BIN/pause" ]; then
		local r
		r=$(mktemp -d)
		cp "$BIN/pause" "$r/pause"
		mkdir -p "$CACHE/images"
		oci_archive registry.k8s.io/pause:3.10 "$r" "$CACHE/images/pause.tar" '["/pause"]'
		rm -rf "$r"
	fi
	# From here on, a failure takes down whatever was started.
	trap 'if [ $? -ne 0 ]; then log "up failed; taking down what was started"; cmd_down_locked || true; fi' EXIT
	mkdir -p "$DIR"/{state,logs,pids,pki,cni,registry}
	echo "$BIN" >"$DIR/bin"
	local c
	for c in /sys/fs/cgroup/*/; do
		[ -f "${c}cgroup.procs" ] || continue
		mkdir -p "$c$CG_PODS" "$c$CG_SYS"
	done
	if [ -d /sys/fs/cgroup/cpuset ]; then
		for c in $CG_PODS $CG_SYS; do
			cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$c/cpuset.cpus"
			cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$c/cpuset.mems"
		done
	fi
	echo $$ >"$(cgtrack)/$CG_SYS/cgroup.procs"

	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
	ip link add "$HOST_IF" type veth peer name "$NODE_IF" netns "$NETNS"
	ip addr add "$HOST_IP/30" dev "$HOST_IF"
	ip link set "$HOST_IF" up
	ip -n "$NETNS" addr add "$NODE_IP/30" dev "$NODE_IF"
	ip -n "$NETNS" link set "$NODE_IF" up
	ip -n "$NETNS" route add "$SVC_CIDR" dev "$NODE_IF" # Service addresses, rewritten by kube-proxy
	ip route add "$POD_CIDR" via "$NODE_IP" dev "$HOST_IF"

	make_pki
	write_configs "$(openssl rand -hex 16)" "$(openssl rand -hex 16)"

	daemon registry "$DEB/usr/bin/docker-registry" serve "$DIR/registry.yml"
	daemon etcd $NS "$DEB/usr/bin/etcd" --data-dir "$DIR/state/etcd" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380
	local p=$DIR/pki
	daemon kube-apiserver $NS "$BIN/k8s" kube-apiserver --etcd-servers=http://127.0.0.1:2379 \
		--bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port=6443 \
		--tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" --client-ca-file="$p/ca.crt" \
		--token-auth-file="$p/tokens.csv" --authorization-mode=Node,RBAC \
		--service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$p/sa.pub" \
		--service-account-signing-key-file="$p/sa.key" --service-cluster-ip-range="$SVC_CIDR" \
		--enable-admission-plugins=NodeRestriction --kubelet-preferred-address-types=InternalIP \
		--cert-dir="$DIR/state/apiserver"
	wait_for kube-apiserver 90 kubectl --request-timeout=5s get --raw /readyz
	daemon kube-controller-manager $NS "$BIN/k8s" kube-controller-manager --kubeconfig="$DIR/admin.kubeconfig" \
		--bind-address=127.0.0.1 --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
		--use-service-account-credentials=false --leader-elect=false --cluster-signing-cert-file="$p/ca.crt" \
		--cluster-signing-key-file="$p/ca.key" --cert-dir="$DIR/state/kcm"
	daemon kube-scheduler $NS "$BIN/k8s" kube-scheduler --kubeconfig="$DIR/admin.kubeconfig" \
		--bind-address=127.0.0.1 --leader-elect=false
	daemon kube-proxy $NS "$BIN/k8s" kube-proxy --config="$DIR/kube-proxy.yaml"
	daemon coredns $NS "$BIN/coredns" -conf "$DIR/Corefile"
	$NS unshare --mount --propagation slave "$here/cluster.sh" node-inner

	wait_for "node $NODE_NAME" 90 node_ready
	# Pods cannot be created in a namespace before its default ServiceAccount exists.
	wait_for "the default ServiceAccount" 60 kubectl --request-timeout=5s get serviceaccount default
	wait_for CoreDNS 60 $NS curl -fsS -m 2 http://127.0.0.1:8181/ready
	wait_for "the registry" 30 curl -fsS -m 2 "http://127.0.0.1:$REGISTRY_PORT/v2/"
	trap - EXIT
	log "up in $((SECONDS - start)) s"
	echo "# started"
	cmd_env
}

cmd_env() {
	cat <<EOF
export KUBECONFIG=$DIR/admin.kubeconfig
export RSCALE_K8S_KUBECTL=$(cat "$DIR/bin" 2>/dev/null || echo "$CACHE/bin/?")/k8s
export RSCALE_K8S_REGISTRY=127.0.0.1:$REGISTRY_PORT
export RSCALE_K8S_NODE_IP=$NODE_IP
export RSCALE_K8S_DNS=$NODE_IP:53
EOF
}

# Signals every process in the harness's cgroups (pods and its own), from the deepest up.
signal_all() {
	local sig=$1 f pids=()
	for f in $(find "$(cgtrack)/$CG_PODS" "$(cgtrack)/$CG_SYS" -name cgroup.procs 2>/dev/null); do
		pids+=($(cat "$f"))
	done
	[ ${#pids[@]} -gt 0 ] && kill "-$sig" "${pids[@]}" 2>/dev/null
	[ ${#pids[@]} -gt 0 ]
}

cmd_down() {
	exec 9>"$LOCK"
	flock 9
	cmd_down_locked
}

cmd_down_locked() {
	# Out of the cgroups first: down may run from a failed up, which joined them.
	echo $$ >"$(cgtrack)/cgroup.procs" 2>/dev/null || true
	local i
	# Nothing of a test cluster is worth a graceful stop (the API server alone takes over 10 s
	# to drain): the kubelet first, so that it restarts nothing, then everything at once.
	[ -f "$DIR/pids/kubelet" ] && kill -KILL "$(cat "$DIR/pids/kubelet")" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		signal_all KILL || break
		sleep 0.1
	done
	ip route del "$POD_CIDR" 2>/dev/null || true
	ip link del "$HOST_IF" 2>/dev/null || true # its peer goes with it
	ip netns del "$NETNS" 2>/dev/null || true  # with the bridge, pod links and iptables rules inside
	local c
	for c in /sys/fs/cgroup/*/; do
		for g in $CG_PODS $CG_SYS; do
			[ -d "$c$g" ] && find "$c$g" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	if [ -d "$DIR/logs" ]; then
		rm -rf "$CACHE/last-logs"
		mkdir -p "$CACHE"
		cp -r "$DIR/logs" "$CACHE/last-logs" 2>/dev/null || true
	fi
	rm -rf "$DIR" 2>/dev/null || true
	local left
	left=$(cmd_leftovers)
	if [ -n "$left" ]; then
		log "down left behind:"
		echo "$left" >&2
		return 1
	fi
	log "down"
}

# Everything of the cluster that can remain on the machine, one per line; nothing when clean.
cmd_leftovers() {
	[ -e "/run/netns/$NETNS" ] && echo "network namespace $NETNS"
	ip link show "$HOST_IF" >/dev/null 2>&1 && echo "link $HOST_IF"
	ip route show "$POD_CIDR" 2>/dev/null | grep -q . && echo "route $POD_CIDR"
	local c g
	for c in /sys/fs/cgroup/*/; do
		for g in $CG_PODS $CG_SYS; do [ -d "$c$g" ] && echo "cgroup $c$g"; done
	done
	awk -v d="$DIR" 'index($5, d) == 1 {print "mount " $5}' /proc/self/mountinfo
	[ -e "$DIR" ] && echo "directory $DIR"
	true
}

case ${1:-} in
deps) cmd_deps ;;
build) bin_dir ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
leftovers) cmd_leftovers ;;
kubectl)
	shift
	BIN=$(cat "$DIR/bin")
	kubectl "$@"
	;;
node-inner)
	BIN=$(cat "$DIR/bin")
	cmd_node
	;;
*)
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# Builds the harness's binaries, or reuses them: the output is keyed by a hash of this module's
# sources, kept in $RSCALE_K8S_CACHE (default /var/cache/rscale-k8s), which outlives CI runs on
# one machine. Prints the directory holding k8s, coredns, pause and hello.
# A cold build takes about 3.2 GB of memory and both cores for several minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${RSCALE_K8S_CACHE:-/var/cache/rscale-k8s}
key=$(cd "$here" && { go env GOVERSION; cat build.sh go.mod go.sum coredns/go.mod coredns/go.sum $(find . -name '*.go' | sort); } | sha256sum | cut -c1-16)
out=$cache/bin/$key
mkdir -p "$cache/bin"
# One build at a time: a second caller waits and then finds the first one's output.
exec 9>"$cache/build.lock"
flock 9
if [ -x "$out/k8s" ] && [ -x "$out/coredns" ] && [ -x "$out/pause" ] && [ -x "$out/hello" ]; then
	touch "$out" # most recently used: the last to be pruned
	echo "$out"
	exit 0
fi
tmp=$(mktemp -d "$cache/bin/.build.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# Without these stamps the components report v0.0.0-master and kubectl refuses to talk to them.
v=v1.37.2
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=37"
done
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z"

cd "$here"
start=$(date +%s)
echo "building the Kubernetes harness binaries into $out (cold: several minutes)" >&2
export CGO_ENABLED=0
nice -n 10 go build -buildvcs=false -trimpath -ldflags "$ldflags" -o "$tmp/k8s" . >&2
(cd coredns && nice -n 10 go build -buildvcs=false -trimpath -ldflags "-s -w" -o "$tmp/coredns" .) >&2
nice -n 10 go build -buildvcs=false -trimpath -ldflags "-s -w" -o "$tmp/pause" ./pause >&2
nice -n 10 go build -buildvcs=false -trimpath -ldflags "-s -w" -o "$tmp/hello" ./hello >&2
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "built in $(($(date +%s) - start)) s" >&2
# Builds of other sources (older commits, other branches' work trees on the same machine) are
# pruned down to the three most recently used, about 220 MB each.
ls -1dt "$cache"/bin/*/ | tail -n +4 | xargs -r rm -rf
echo "$out"

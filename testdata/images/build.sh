#!/usr/bin/env bash
# Builds the images rscale's end-to-end tests and `make demo` need, from Debian's packages,
# on a machine that can pull no image: mmdebstrap makes a root filesystem, docker imports it.
# Idempotent: an image that exists is kept. Usage: build.sh [r-base|haproxy]...
set -euo pipefail

suite=bookworm
declare -A packages=(
	[r-base]="r-base-core,r-cran-plumber,r-cran-randomforest,r-cran-jsonlite,curl,ca-certificates"
	[haproxy]="haproxy"
)

sources() {
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[ -s "$f" ] && { echo "$f"; return; }
	done
	echo "no apt sources file found for mmdebstrap" >&2
	exit 1
}

for name in "${@:-r-base haproxy}"; do
	for image in $name; do
		ref="rscale-test/$image:$suite"
		if docker image inspect "$ref" >/dev/null 2>&1; then
			echo "$ref: already built"
			continue
		fi
		if [ -z "${packages[$image]:-}" ]; then
			echo "unknown image $image: choose ${!packages[*]}" >&2
			exit 2
		fi
		if ! command -v mmdebstrap >/dev/null; then
			sudo=""
			[ "$(id -u)" -eq 0 ] || sudo="sudo"
			echo "installing mmdebstrap from Debian's packages"
			$sudo apt-get update -q >/dev/null
			DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
		fi
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		echo "$ref: building from Debian $suite packages: ${packages[$image]}"
		mmdebstrap --quiet --variant=apt --include="${packages[$image]}" "$suite" "$tmp/rootfs.tar" "$(sources)"
		docker import "$tmp/rootfs.tar" "$ref" >/dev/null
		rm -rf "$tmp"
		trap - EXIT
		echo "$ref: built"
	done
done

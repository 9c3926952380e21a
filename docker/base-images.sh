#!/usr/bin/env bash
# Makes the base images the Dockerfile's build args default to, from this machine and Debian's
# mirror only (no registry is reachable here):
#   estafette-base/node:20        Debian bookworm (debootstrap --variant=minbase) + this machine's
#                                 `node` binary: the runtime of every function image and the builder
#   estafette-base/node-build:20  the same + this machine's npm: the Dockerfile's `build` stage
#   estafette-base/builder:20     Debian bookworm minbase + git, openssh-client, ca-certificates +
#                                 this machine's node: the builder
#   estafette-base/nginx:1.22     Debian bookworm minbase + Debian's nginx-light: the frontend
# Each root filesystem is cached as a tarball under $ESTAFETTE_IMAGE_CACHE (default
# ~/.cache/estafette/base-images), keyed by a hash of its inputs (the suite and mirror,
# debootstrap's version, the packages, the functions below that make it, the node binary, npm's
# version), and `docker import`ed into the engine at DOCKER_HOST when the engine does not hold it
# yet (seconds; the engine of a CI run is new each time). A cold cache costs about 2–3 minutes.
#   DOCKER_HOST=unix:///path/docker.sock bash docker/base-images.sh
set -euo pipefail

SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${ESTAFETTE_IMAGE_CACHE:-${HOME:-/root}/.cache/estafette/base-images}
NODE_BIN=${NODE_BIN:-$(readlink -f "$(command -v node)")}
NPM_DIR=${NPM_DIR:-$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")}
NODE_MAJOR=$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')

log() { printf '[base-images] %s\n' "$*" >&2; }
for tool in debootstrap docker sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "base-images: $tool is missing (apt-get install debootstrap docker.io)" >&2; exit 1; }
done
mkdir -p "$CACHE"

# Strips what no container needs from a root filesystem (docs, man pages, locales, apt lists, logs).
trim() {
  local root=$1
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/log/* \
    "$root"/usr/share/lintian "$root"/usr/share/common-licenses
}

# debootstrap_tar NAME KEY [INCLUDE] → the cached tarball of a minbase root (+ INCLUDE packages), made if missing.
debootstrap_tar() {
  local name=$1 key=$2 include=${3:-}
  local tarball="$CACHE/$name-$key.tar"
  if [ -f "$tarball" ]; then log "$name: cached"; echo "$tarball"; return; fi
  local started=$SECONDS work
  work=$(mktemp -d /tmp/estafette-rootfs.XXXXXX)
  log "$name: debootstrap --variant=minbase $SUITE${include:+ --include=$include}"
  # A package cache per image: the debootstraps run at the same time and must not share one.
  mkdir -p "$CACHE/debs-$name"
  debootstrap --variant=minbase ${include:+--include="$include"} --cache-dir="$CACHE/debs-$name" "$SUITE" "$work/root" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; rm -rf "$work"; exit 1; }
  # nginx as Debian installs it, minus the site that listens on port 80 as root.
  rm -f "$work/root/etc/nginx/sites-enabled/default"
  trim "$work/root"
  tar -C "$work/root" --numeric-owner -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$work"
  log "$name: made in $((SECONDS - started)) s"
  echo "$tarball"
}

# with_files NAME KEY BASE_TAR ADD_FN → BASE_TAR's root plus what ADD_FN adds to it, cached.
with_files() {
  local name=$1 key=$2 base=$3 add=$4
  local tarball="$CACHE/$name-$key.tar"
  if [ -f "$tarball" ]; then log "$name: cached"; echo "$tarball"; return; fi
  local root
  root=$(mktemp -d /tmp/estafette-rootfs.XXXXXX)
  tar -C "$root" --numeric-owner -xf "$base"
  "$add" "$root"
  tar -C "$root" --numeric-owner -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$root"
  log "$name: made"
  echo "$tarball"
}

add_node() { install -D -m 0755 "$NODE_BIN" "$1/usr/local/bin/node"; }
add_node_npm() {
  add_node "$1"
  mkdir -p "$1/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$1/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"
}

# What makes each root filesystem (a change to any of these makes new ones): the suite, the
# mirror, debootstrap's version, the functions above, the packages, the node binary, npm.
key() { sha256sum | cut -c1-16; }
common_key=$( { echo "$SUITE $MIRROR"; debootstrap --version; declare -f trim debootstrap_tar with_files; } | key)
minbase_key=$common_key
NGINX_PACKAGES=nginx-light
BUILDER_PACKAGES=git,openssh-client,ca-certificates
nginx_key=$( { echo "$common_key"; echo "$NGINX_PACKAGES"; } | key)
git_key=$( { echo "$common_key"; echo "$BUILDER_PACKAGES"; } | key)
node_key=$( { echo "$common_key"; sha256sum "$NODE_BIN"; declare -f add_node; } | key)
npm_key=$( { echo "$node_key"; cat "$NPM_DIR/package.json"; declare -f add_node_npm; } | key)
builder_key=$( { echo "$git_key"; echo "$node_key"; } | key)

# The three debootstraps at once (mostly waiting on the mirror and dpkg), then what builds on them.
debootstrap_tar minbase "$minbase_key" >/dev/null & p1=$!
debootstrap_tar nginx "$nginx_key" "$NGINX_PACKAGES" >/dev/null & p2=$!
debootstrap_tar git "$git_key" "$BUILDER_PACKAGES" >/dev/null & p3=$!
wait $p1 && wait $p2 && wait $p3

minbase_tar="$CACHE/minbase-$minbase_key.tar"
nginx_tar="$CACHE/nginx-$nginx_key.tar"
git_tar="$CACHE/git-$git_key.tar"
node_tar=$(with_files node "$node_key" "$minbase_tar" add_node)
build_tar=$(with_files node-build "$npm_key" "$minbase_tar" add_node_npm)
builder_tar=$(with_files builder "$builder_key" "$git_tar" add_node)
# Tarballs of earlier inputs are stale now.
keep=" $minbase_tar $nginx_tar $git_tar $node_tar $build_tar $builder_tar "
for f in "$CACHE"/*.tar; do case "$keep" in *" $f "*) ;; *) rm -f "$f" ;; esac; done

started=$SECONDS
# import TARBALL IMAGE CHANGES… — skipped when the engine already holds IMAGE made from TARBALL.
import() {
  local tarball=$1 image=$2; shift 2
  local made_from
  made_from=$(basename "$tarball" .tar)
  if [ "$(docker image inspect -f '{{index .Config.Labels "estafette.base.rootfs"}}' "$image" 2>/dev/null)" != "$made_from" ]; then
    docker import --change "LABEL estafette.base.rootfs=$made_from" "$@" "$tarball" "$image" >/dev/null
  fi
  log "$image: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}')"
}
path='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
import "$node_tar" "estafette-base/node:$NODE_MAJOR" --change "$path" --change 'CMD ["node"]'
import "$build_tar" "estafette-base/node-build:$NODE_MAJOR" --change "$path" --change 'CMD ["node"]'
import "$builder_tar" "estafette-base/builder:$NODE_MAJOR" --change "$path" --change 'CMD ["node"]'
import "$nginx_tar" "estafette-base/nginx:1.22" --change "$path" \
  --change 'CMD ["nginx", "-g", "daemon off;"]'
log "imported in $((SECONDS - started)) s"

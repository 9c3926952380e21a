#!/usr/bin/env bash
# Builds every target of the Dockerfile (or the ones named) as estafette-<target>:$IMAGE_TAG
# with BuildKit, from the checkout as a prepared context: DIST=context takes dist/ and
# frontend/dist/ as `npm ci`/`npm run build` made them on this machine, since no registry is
# reachable from a build container here (the default DIST=build runs npm ci inside instead).
# Base images: docker/base-images.sh. Prints each target's build time. BUILD_ARGS adds build
# args (e.g. skaffold's dev profile's: BUILD_ARGS="BUNDLE_OWNER=1000:1000" IMAGE_TAG=dev).
#   DOCKER_HOST=unix:///path/docker.sock bash docker/build-images.sh [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${IMAGE_TAG:-local}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(webhook-ingest build-dispatch log-ingest cron-relay query-api builder frontend)

log() { printf '[images] %s\n' "$*" >&2; }
[ -f dist/bundles.json ] && [ -f frontend/dist/index.html ] || { echo "build-images: run npm run build first (dist/, frontend/dist/)" >&2; exit 1; }

# A docker CLI that builds with BuildKit: `docker buildx`, or a CLI from before 23.0 (Debian's
# docker.io) whose built-in BuildKit client DOCKER_BUILDKIT=1 turns on. Newer CLIs without
# buildx fall back to the legacy builder, which builds every stage and knows no RUN --mount.
build() {
  if docker buildx version >/dev/null 2>&1; then docker buildx build --load "$@"; return; fi
  local cli
  for cli in docker /usr/bin/docker; do
    local major
    major=$("$cli" version -f '{{.Client.Version}}' 2>/dev/null | cut -d. -f1) || continue
    if [ -n "$major" ] && [ "$major" -lt 23 ]; then DOCKER_BUILDKIT=1 "$cli" build "$@"; return; fi
  done
  echo "build-images: no docker CLI with BuildKit (install docker-buildx, or Debian's docker.io)" >&2
  return 1
}

all_started=$SECONDS
for target in "${TARGETS[@]}"; do
  started=$SECONDS
  extra=()
  for arg in ${BUILD_ARGS:-}; do extra+=(--build-arg "$arg"); done
  build -q --build-arg DIST=context "${extra[@]}" --target "$target" -t "estafette-$target:$TAG" . >/dev/null
  log "$target: built in $((SECONDS - started)) s"
done
log "${#TARGETS[@]} targets built in $((SECONDS - all_started)) s"

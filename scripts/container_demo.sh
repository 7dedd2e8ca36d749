#!/usr/bin/env bash
# Build the hf_ser image with buildah from a locally made Debian base (no registry pull), then train the demo
# recipe inside it, copy the run folder out of the container and print the run's metrics. For machines
# without a Docker engine or registry access.
#
#   sudo scripts/container_demo.sh [RECIPE] [key=value ...]
#
# RUN_DIR (default runs/container_demo) receives the run folder; it must not exist or be empty.
# Environment: MIRROR (Debian mirror for debootstrap; default: the first one in /etc/apt/sources.list*),
# BASE_IMAGE (default localhost/hf-ser-base:bookworm, built once), IMAGE (default localhost/hf-ser:dev),
# CA_BUNDLE (host CA file mounted into the build for pip; default /etc/ssl/certs/ca-certificates.crt).
# Needs root (debootstrap and chroot isolation). Timings on a 2-core machine are in docs/distribution.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RECIPE="${1:-recipes/demo/ravdess_tiny.yaml}"
shift || true
BASE_IMAGE="${BASE_IMAGE:-localhost/hf-ser-base:bookworm}"
IMAGE="${IMAGE:-localhost/hf-ser:dev}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
RUN_DIR="${RUN_DIR:-runs/container_demo}"
log() { echo "[container_demo $(date +%H:%M:%S)] $*" >&2; }

# Checked before the (long) build: the run is copied into RUN_DIR, which must hold nothing to overwrite.
if [ -n "$(ls -A "$RUN_DIR" 2>/dev/null)" ]; then
  echo "container_demo: $RUN_DIR is not empty; set RUN_DIR=<new folder> or move it away" >&2
  exit 2
fi

if [ -z "${MIRROR:-}" ]; then
  # deb822 (URIs: ...) or one-line (deb URL suite ...) sources; first Debian main archive wins.
  MIRROR="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -v security | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//' | awk '{print $1}' \
    | grep -m1 debian || true)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

for tool in buildah podman debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    log "installing buildah podman debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah podman debootstrap >/dev/null
    break
  fi
done

if ! buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  log "making base image $BASE_IMAGE with debootstrap from $MIRROR"
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$MIRROR" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi

log "building $IMAGE"
start=$(date +%s)
# The host CA bundle is mounted (not copied) so pip trusts a TLS-intercepting proxy; nothing of it stays in the image.
buildah bud --isolation chroot --network host --layers \
  -v "$CA_BUNDLE:/run/host-ca.crt:ro" \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg PIP_CERT=/run/host-ca.crt \
  -t "$IMAGE" . >&2
log "image built in $(( $(date +%s) - start )) s"

ctr="$(buildah from "$IMAGE")"
trap 'buildah rm "$ctr" >/dev/null' EXIT
run_in() { buildah run --isolation chroot --network host "$ctr" -- "$@"; }

if ! run_in test -f "$RECIPE"; then
  log "$RECIPE is not in the image: showing the entrypoint's help instead"
  run_in accelerate launch hf_ser/train.py --help
  exit 0
fi
log "training $RECIPE inside the container (CPU)"
out=/app/runs/container_demo
run_in accelerate launch --cpu --num_processes 1 hf_ser/train.py "$RECIPE" "train.output_dir=$out" "$@" >&2
# The container is removed on exit: the run folder is copied out first, as the runtime user wrote it.
mkdir -p "$RUN_DIR"
run_in tar -C "$out" -cf - . | tar -C "$RUN_DIR" -xf -
log "run folder copied to $RUN_DIR; metrics of the run:"
cat "$RUN_DIR/metrics.json"

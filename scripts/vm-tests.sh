#!/usr/bin/env bash
# The VM tier: boots one Debian guest (../shared/vm) with cgroup v2, device-mapper and
# VLANs, and runs every test under dist/test/vm in it, with this checkout shared in.
# Build first (npm run build); the busybox test image is built here, on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .vm-artifacts
bash scripts/build-test-image.sh .vm-artifacts/busybox-oci.tar --format oci >/dev/null
SHARE_RW=1 TIMEOUT="${TIMEOUT:-2400}" bash scripts/vm-run.sh \
  env TSINFRA_TEST_IMAGE=/mnt/host/.vm-artifacts/busybox-oci.tar TSINFRA_CACHE=0 \
  node --test --test-concurrency=1 dist/test/vm/

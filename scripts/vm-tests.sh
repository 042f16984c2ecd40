#!/usr/bin/env bash
# The VM tier: boots one Debian guest (../shared/vm) with cgroup v2, device-mapper and
# VLANs, and runs every test under dist/test/vm in it, with this checkout shared in.
# Build first (npm run build); the busybox test image is built here, on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
# The VM tier lives beside the project checkout (../shared/vm); a clone elsewhere finds
# it through TSINFRA_VM_DIR or the project's standard location.
vm_dir=""
for candidate in "${TSINFRA_VM_DIR:-}" "$(cd .. && pwd)/shared/vm" /work/shared/vm; do
  if [ -n "$candidate" ] && [ -x "$candidate/run-in-vm.sh" ]; then
    vm_dir="$candidate"
    break
  fi
done
if [ -z "$vm_dir" ]; then
  echo "vm-tests: no VM tier found (../shared/vm); set TSINFRA_VM_DIR" >&2
  exit 1
fi
mkdir -p .vm-artifacts
bash scripts/build-test-image.sh .vm-artifacts/busybox-oci.tar --format oci >/dev/null
SHARE_RW=1 TIMEOUT="${TIMEOUT:-1500}" "$vm_dir/run-in-vm.sh" \
  env TSINFRA_TEST_IMAGE=/mnt/host/.vm-artifacts/busybox-oci.tar TSINFRA_CACHE=0 \
  node --test --test-concurrency=1 dist/test/vm/

#!/usr/bin/env bash
# Runs a command in a fresh VM-tier guest (../shared/vm: cgroup v2, device-mapper, VLANs,
# an empty disk /dev/vdb) with this checkout shared in at the guest's working directory.
# Environment as run-in-vm.sh reads it (SHARE_RW, TIMEOUT, ...).
#   scripts/vm-run.sh node dist/bench/storage.js
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
  echo "vm-run: no VM tier found (../shared/vm); set TSINFRA_VM_DIR" >&2
  exit 1
fi
exec "$vm_dir/run-in-vm.sh" "$@"

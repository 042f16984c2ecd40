#!/usr/bin/env bash
# The VM tier: boots one Debian guest (../shared/vm) with cgroup v2, device-mapper and
# VLANs, and runs every test under dist/test/vm in it. Build first (npm run build); the
# busybox test image is built here, on the host.
# Arguments: test files to run instead of all (dist/test/vm/NAME.test.js).
#
# The tests run from a copy of the build on the guest's own disk, not from the 9p share:
# over 9p every Node start read (and mapped) hundreds of files through the emulated
# device, tens of seconds per CLI run when the host was busy.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .vm-artifacts
bash scripts/build-test-image.sh .vm-artifacts/busybox-oci.tar --format oci >/dev/null
# The lvm2 package, for the guest's offline install test (storage-packages): from this
# machine's apt cache when it is there (Debian 12, as the guest), else from its mirror.
mkdir -p .vm-artifacts/apt
if ! ls .vm-artifacts/apt/lvm2_*.deb >/dev/null 2>&1; then
  cached=$(ls /var/cache/apt/archives/lvm2_*_amd64.deb 2>/dev/null | tail -n 1 || true)
  if [ -n "$cached" ]; then cp "$cached" .vm-artifacts/apt/; else (cd .vm-artifacts/apt && apt-get download -q lvm2); fi
fi
tar -cf .vm-artifacts/tsinfra-tree.tar bin dist node_modules package.json oclif.manifest.json scripts
SHARE_RW=1 TIMEOUT="${TIMEOUT:-2400}" bash scripts/vm-run.sh \
  env TSINFRA_TEST_IMAGE=/mnt/host/.vm-artifacts/busybox-oci.tar TSINFRA_CACHE=0 \
  bash -c 'mkdir -p /root/tsinfra && tar -xf .vm-artifacts/tsinfra-tree.tar -C /root/tsinfra && cd /root/tsinfra || exit 1
    node --test --test-concurrency=1 "${@:-dist/test/vm/}"; rc=$?
    # A process the kernel killed (OOM, a crash) leaves its reason only in the guest log.
    [ $rc = 0 ] || dmesg | grep -i -E "out of memory|oom-kill|killed process|segfault|trap" || true
    exit $rc' vm-tests "$@"

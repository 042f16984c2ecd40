#!/usr/bin/env bash
# Installs the Debian packages tsinfra and its tests use on this machine, if missing:
# iproute2 (links, network namespaces), nftables (NAT rules), util-linux (unshare, nsenter: the
# container init), busybox-static (the test image, built on the spot) and runc (the benchmark's
# yardstick only), sudo and passwd (users of the SSH tests; the fake hosts install openssh
# themselves, see ../shared/testhosts), lvm2 (its report commands; device-mapper work runs in
# the VM tier). Needs root.
set -euo pipefail
pkgs=(iproute2 nftables util-linux busybox-static runc sudo passwd lvm2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Builds a small busybox image without internet, from Debian's busybox-static
# (/bin/busybox): the image of the quickstart and of the container tests.
#
#   scripts/build-test-image.sh OUT [--format oci|docker|rootfs]
#
#   oci     OUT is an OCI image layout tar (oci-layout, index.json, blobs/sha256/...,
#           gzip layer): use it as  source = "oci-archive:OUT"
#   docker  OUT is a `docker save` tar (manifest.json, config json, layer tar):
#           source = "docker-archive:OUT"
#   rootfs  OUT is a directory (must not exist or be empty): source = "rootfs:OUT"
#
# The rootfs holds /bin/busybox and a symlink per applet (`busybox --list`), /etc/passwd
# (root 0, nobody 65534, app 1000:1000), /etc/group, empty /proc /sys /dev /tmp /etc/hosts.
# The image config: Cmd ["sh"], a default PATH, WorkingDir "/". Builds are deterministic
# (fixed mtimes, sorted entries, numeric owners, gzip -n), so the digests are stable for
# a given busybox binary. Prints the image's config and manifest digests on stdout.
#
# Needs bash, coreutils, GNU tar, gzip and sha256sum; run as root for the owner of
# /home/app to be 1000 (otherwise every entry belongs to root).
set -euo pipefail

usage() {
  echo "usage: $0 OUT [--format oci|docker|rootfs]" >&2
  exit 2
}

out=''
format=oci
while [ $# -gt 0 ]; do
  case "$1" in
    --format) [ $# -ge 2 ] || usage; format="$2"; shift 2 ;;
    --format=*) format="${1#--format=}"; shift ;;
    -h | --help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out="$1"; shift ;;
  esac
done
[ -n "$out" ] || usage
case "$format" in oci | docker | rootfs) ;; *) echo "unknown format: $format (oci, docker or rootfs)" >&2; exit 2 ;; esac

busybox=/bin/busybox
if [ ! -x "$busybox" ]; then
  echo "$busybox is missing: install Debian's busybox-static (scripts/install-system-packages.sh)" >&2
  exit 1
fi

# 2024-01-01T00:00:00Z: every mtime and the config's dates.
epoch=1704067200
created='2024-01-01T00:00:00Z'
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  armv7l) arch=arm ;;
  i?86) arch=386 ;;
  *) arch="$(uname -m)" ;;
esac
path_env='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

work="$(mktemp -d "${TMPDIR:-/tmp}/tsinfra-test-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ---- the root filesystem ----------------------------------------------------
root="$work/rootfs"
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,root,home/app,var/tmp}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  case "$applet" in busybox | */* | .*) continue ;; esac
  ln -s busybox "$root/bin/$applet"
done
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
app:x:1000:
EOF
: >"$root/etc/hosts"
chmod 0755 "$root" "$root"/{bin,etc,proc,sys,dev,root,home,home/app}
chmod 0700 "$root/root"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/hosts"
chmod 0755 "$root/bin/busybox"

owner_opts=(--numeric-owner)
if [ "$(id -u)" = 0 ]; then
  chown -R 0:0 "$root"
  chown 1000:1000 "$root/home/app"
else
  owner_opts+=(--owner=0 --group=0)
fi
# Deterministic tar: sorted names, one mtime, no atime/ctime, numeric owners.
det_tar=(tar --sort=name --mtime="@$epoch" --format=gnu "${owner_opts[@]}")

if [ "$format" = rootfs ]; then
  if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
    echo "$out exists and is not empty" >&2
    exit 1
  fi
  mkdir -p "$out"
  "${det_tar[@]}" -C "$root" -cf - . | tar -C "$out" --same-owner -xpf -
  echo "rootfs $out"
  exit 0
fi

# ---- layer and config -------------------------------------------------------
"${det_tar[@]}" -C "$root" -cf "$work/layer.tar" .
diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"

json_config() {
  printf '{"architecture":"%s","os":"linux","created":"%s",' "$arch" "$created"
  printf '"config":{"Env":["%s"],"Cmd":["sh"],"WorkingDir":"/"},' "$path_env"
  printf '"rootfs":{"type":"layers","diff_ids":["%s"]},' "$diff_id"
  printf '"history":[{"created":"%s","created_by":"scripts/build-test-image.sh (busybox-static)"}]}' "$created"
}
json_config >"$work/config.json"
config_hex="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
config_size="$(stat -c %s "$work/config.json")"

archive() { # DIR: tar of the directory's contents into $out
  local tmp_out="$out.tmp.$$"
  "${det_tar[@]}" --owner=0 --group=0 -C "$1" -cf "$tmp_out" .
  mv -f "$tmp_out" "$out"
}

if [ "$format" = docker ]; then
  layout="$work/docker"
  layer_dir="${diff_id#sha256:}"
  mkdir -p "$layout/$layer_dir"
  cp "$work/layer.tar" "$layout/$layer_dir/layer.tar"
  cp "$work/config.json" "$layout/$config_hex.json"
  printf '[{"Config":"%s.json","RepoTags":["tsinfra/busybox:test"],"Layers":["%s/layer.tar"]}]' "$config_hex" "$layer_dir" >"$layout/manifest.json"
  printf '{"tsinfra/busybox":{"test":"%s"}}' "$layer_dir" >"$layout/repositories"
  archive "$layout"
  echo "docker-archive $out id sha256:$config_hex digest sha256:$config_hex"
  exit 0
fi

# ---- OCI image layout -------------------------------------------------------
layout="$work/oci"
blobs="$layout/blobs/sha256"
mkdir -p "$blobs"
gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"
layer_hex="$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)"
layer_size="$(stat -c %s "$work/layer.tar.gz")"
mv "$work/layer.tar.gz" "$blobs/$layer_hex"
cp "$work/config.json" "$blobs/$config_hex"
{
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
  printf '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},' "$config_hex" "$config_size"
  printf '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$layer_hex" "$layer_size"
} >"$work/manifest.json"
manifest_hex="$(sha256sum "$work/manifest.json" | cut -d' ' -f1)"
manifest_size="$(stat -c %s "$work/manifest.json")"
mv "$work/manifest.json" "$blobs/$manifest_hex"
{
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{'
  printf '"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,' "$manifest_hex" "$manifest_size"
  printf '"platform":{"architecture":"%s","os":"linux"},' "$arch"
  printf '"annotations":{"org.opencontainers.image.ref.name":"test"}}]}'
} >"$layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
archive "$layout"
echo "oci-archive $out id sha256:$config_hex digest sha256:$manifest_hex"

#!/usr/bin/env bash
# A Debian bookworm base image for the Dockerfile, made without Docker Hub:
#
#   docker build --network host --build-arg PYTHON_IMAGE="$(scripts/docker_base.sh)" -t chatapp .
#
# debootstrap (minbase + python3, python3-venv, ca-certificates) from the Debian mirror this machine's
# apt already uses (read from `apt-get indextargets`, so no host is written here), security and point
# updates applied, docs/man pages/locales left out (as Debian's slim images do), then `docker import`.
# Prints the image name (chatapp-base:<key>) on stdout; progress goes to stderr.
#
# Cached by a key over the suite, the package list and RECIPE: the image itself (docker) and its root
# file system as a tarball under $CHATAPP_DOCKER_CACHE (default /var/cache/chatapp-docker), so a new
# Docker engine on the same machine imports it in seconds instead of bootstrapping again (~1 min).
# Needs root, debootstrap and a running Docker engine. Override the mirror with DEBIAN_MIRROR=URL.
set -euo pipefail

SUITE=bookworm
PACKAGES=(python3 python3-venv ca-certificates)
RECIPE=1 # bump when the steps below change what the image holds
CACHE=${CHATAPP_DOCKER_CACHE:-/var/cache/chatapp-docker}

key=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" "recipe $RECIPE" | sha256sum | cut -c1-12)
image="chatapp-base:$SUITE-$key"
tarball="$CACHE/base-$SUITE-$key.tar"
log() { echo "docker_base: $*" >&2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one bootstrap at a time (a developer's run and CI's on one machine)
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
if [ -s "$tarball" ]; then
  log "importing $tarball"
  docker import --change 'CMD ["/bin/bash"]' "$tarball" "$image" >/dev/null
  echo "$image"
  exit 0
fi

# The machine's own Debian sources for this suite (main, its architecture): `URI SUITE` lines.
arch=$(dpkg --print-architecture)
machine_sources() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(ARCHITECTURE)' \
    'Identifier: Packages' |
    awk -v s="$SUITE" -v a="$arch" \
      '$3 == "main" && $4 == a && ($2 == s || $2 == s "-updates" || $2 == s "-security") {print $1, $2}' |
    sort -u
}
mapfile -t sources < <(machine_sources)
if [ ${#sources[@]} -eq 0 ] && [ -z "${DEBIAN_MIRROR:-}" ]; then
  apt-get update -qq # apt lists only the sources it has fetched the index of
  mapfile -t sources < <(machine_sources)
fi
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  for line in "${sources[@]}"; do
    [ "${line#* }" = "$SUITE" ] && mirror=${line%% *}
  done
fi
if [ -z "$mirror" ]; then
  log "no Debian $SUITE source in this machine's apt configuration; set DEBIAN_MIRROR=URL"
  exit 1
fi
[ ${#sources[@]} -gt 0 ] || sources=("$mirror $SUITE")

work=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
root="$work/root"
log "debootstrap $SUITE from $mirror (${PACKAGES[*]})"
include=$(
  IFS=,
  echo "${PACKAGES[*]}"
)
debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

# What a later `apt-get install` in the image must not bring back (Debian's slim images do the same).
cat >"$root/etc/dpkg/dpkg.cfg.d/01-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$root/etc/apt/apt.conf.d/01-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
: >"$root/etc/apt/sources.list"
for line in "${sources[@]}"; do
  echo "deb ${line%% *} ${line#* } main" >>"$root/etc/apt/sources.list"
done
# Point and security updates, with the host's network and resolver (a chroot, not a container).
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount --bind /proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf --one-file-system "$work"' EXIT
log "applying updates"
chroot "$root" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade' \
  >"$work/upgrade.log" 2>&1 || {
  tail -20 "$work/upgrade.log" >&2
  exit 1
}
umount "$root/proc"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/* \
  "$root"/tmp/* "$root"/root/.cache
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
: >"$root/etc/resolv.conf" # Docker mounts the run-time one
chroot "$root" python3 -c 'import ensurepip, ssl, sqlite3' # what the Dockerfile relies on

tar --numeric-owner -C "$root" -cf "$work/base.tar" .
mv "$work/base.tar" "$tarball"
log "importing ($(du -h "$tarball" | cut -f1))"
docker import --change 'CMD ["/bin/bash"]' "$tarball" "$image" >/dev/null
echo "$image"

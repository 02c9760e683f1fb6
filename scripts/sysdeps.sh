#!/usr/bin/env bash
# Installs and starts what the tests need on a fresh Debian machine (as root): Chromium, CJK fonts, nginx,
# Docker's engine (docker.io), debootstrap and docker-compose (the image test); makes sure the local
# PostgreSQL, Redis and a Docker engine are up. Idempotent and quick when all is there.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || need+=(fonts-wqy-microhei)
fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || need+=(fonts-noto-color-emoji)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
# The image test: Debian's engine (a `docker` client alone, as some machines have, cannot build),
# debootstrap for the base image, and Debian's docker-compose to validate deploy/compose.yaml.
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
command -v docker-compose >/dev/null || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "sysdeps: missing ${need[*]} and not root; install them with apt-get" >&2
  fi
fi
# PostgreSQL and Redis are started by the machine; start them again if they are down.
if command -v pg_ctlcluster >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if command -v redis-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null; then
  bash "$(dirname "$0")/docker_engine.sh" || true
fi
exit 0

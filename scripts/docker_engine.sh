#!/usr/bin/env bash
# Makes sure a Docker engine answers: when none does, starts Debian's dockerd (package docker.io) in
# the background without a bridge or iptables rules (the tests build and run with --network host, so
# nothing needs a container network), logging to $DOCKERD_LOG. Needs root to start one.
set -euo pipefail
docker info >/dev/null 2>&1 && exit 0
if ! command -v dockerd >/dev/null; then
  echo "docker_engine: no dockerd; install Debian's docker.io (make sysdeps)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker_engine: no Docker engine answers and only root can start one" >&2
  exit 1
fi
log=${DOCKERD_LOG:-/var/log/chatapp-dockerd.log}
exec 9>/run/chatapp-dockerd.lock
flock 9 # two callers at once start one engine
if ! docker info >/dev/null 2>&1; then
  echo "docker_engine: starting dockerd (log: $log)" >&2
  setsid nohup dockerd --bridge=none --iptables=false >>"$log" 2>&1 </dev/null &
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && exit 0
    sleep 0.5
  done
  echo "docker_engine: dockerd did not answer in 60 s:" >&2
  tail -20 "$log" >&2
  exit 1
fi

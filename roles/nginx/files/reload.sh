#!/bin/sh
# Reloads Nginx in its container (run by roles/nginx/tasks/reload.yml through docker exec)
# and returns once the new configuration serves: a worker of the reload runs and every worker
# from before is gone or shutting down (its listening sockets closed), so no new request meets
# the old configuration after this returns. Fails when that takes more than 30 s, as when the
# new configuration does not load and the old workers stay. Then it waits up to DRAIN
# seconds for the old workers to finish the requests they still have, which may be proxied
# to the old web target: the caller drains that target only afterwards.
# Usage: reload.sh [DRAIN]
set -eu
drain=${1:-0}
master=""
for dir in /proc/[0-9]*; do
  case "$(tr '\0' ' ' < "$dir/cmdline" 2>/dev/null || true)" in
    "nginx: master process"*) master=${dir#/proc/} ;;
  esac
done
if [ -z "$master" ]; then
  echo "no Nginx master process in this container" >&2
  exit 1
fi
# Workers of the master: "taking" ones accept requests, "leaving" ones are shutting down.
workers() {
  # shellcheck disable=SC2013 # one line of space-separated PIDs
  for pid in $(cat "/proc/$master/task/$master/children"); do
    case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)" in
      "nginx: worker process is shutting down"*) echo "leaving $pid" ;;
      "nginx: worker process"*) echo "taking $pid" ;;
    esac
  done
}
before=" $(workers | sed 's/^[a-z]* //' | tr '\n' ' ') "
nginx -s reload
deadline=$(($(date +%s) + 30))
while :; do
  fresh=no
  stale=no
  for pid in $(workers | sed -n 's/^taking //p'); do
    case "$before" in
      *" $pid "*) stale=yes ;;
      *) fresh=yes ;;
    esac
  done
  if [ "$fresh" = yes ] && [ "$stale" = no ]; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "Nginx did not take up its new configuration within 30 s: see its log (make logs SERVICE=nginx)" >&2
    exit 1
  fi
  sleep 0.05
done
deadline=$(($(date +%s) + drain))
while [ "$(date +%s)" -lt "$deadline" ]; do
  left=no
  for pid in $(workers | sed 's/^[a-z]* //'); do
    case "$before" in *" $pid "*) left=yes ;; esac
  done
  [ "$left" = yes ] || break
  sleep 0.05
done

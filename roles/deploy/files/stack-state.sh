#!/bin/sh
# Prints one digest of what deploys of a stack leave on this host, so that a rerun can tell
# nothing drifted since the last complete deploy: the stack's containers (configuration,
# image, state and whether Docker finds them unhealthy), networks and volumes, and what the
# roles declared they own here (roles/*/vars/main.yml, <role>_declared): files under the
# paths given (content, mode and owner), nftables tables and systemd units, and whether a
# certificate is due for renewal (a run renews one that expires within its seconds). Any
# error fails it, so that a host it cannot read (no engine, say) is never taken for
# unchanged.
# Usage: stack-state.sh <label>=<value> [--expires <file>:<seconds>]... [--table <family>:<name>]...
#        [--unit <name>]... [<path>]...
set -eu
label=$1
shift
expires=""
tables=""
units=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --expires) expires="$expires $2"; shift 2 ;;
    --table) tables="$tables $2"; shift 2 ;;
    --unit) units="$units $2"; shift 2 ;;
    *) break ;;
  esac
done
listing=$(
  ids=$(docker ps -aq --no-trunc --filter "label=$label")
  if [ -n "$ids" ]; then
    # Health is read as unhealthy or not, never as starting or healthy: a deploy's health
    # wait ends on the container's own check, before Docker's first verdict, so the record
    # may see a container starting that the next run sees healthy.
    # shellcheck disable=SC2016,SC2086 # a Go template, not shell; one argument per id
    docker inspect --format 'container {{.Name}} {{.Image}} {{.State.Status}} {{if .State.Health}}unhealthy={{eq .State.Health.Status "unhealthy"}}{{end}} {{range $net, $_ := .NetworkSettings.Networks}}{{$net}},{{end}} {{json .Config}} {{json .HostConfig}}' $ids
  fi
  docker network ls --no-trunc --filter "label=$label" --format 'network {{.Name}} {{.ID}}'
  docker volume ls --filter "label=$label" --format 'volume {{.Name}}'
  for path in "$@"; do
    if [ -e "$path" ]; then
      find "$path" ! -name '*.sock' ! -path '*/deploy.lock*' -printf 'path %p %y %m %U %G %l\n'
      find "$path" -type f ! -path '*/deploy.lock*' -exec sha256sum {} +
    else
      printf 'missing %s\n' "$path"
    fi
  done
  for due in $expires; do
    if ! openssl x509 -noout -in "${due%:*}" -checkend "${due##*:}" >/dev/null; then
      echo "renewal due ${due%:*}"
    fi
  done
  for table in $tables; do
    if command -v nft >/dev/null; then nft list table "${table%%:*}" "${table#*:}" 2>/dev/null || true; fi
  done
  if [ -n "$units" ] && [ -d /run/systemd/system ]; then
    # shellcheck disable=SC2086 # one argument per unit name
    systemctl is-active $units 2>/dev/null || true
  fi
)
printf '%s\n' "$listing" | LC_ALL=C sort | sha256sum | cut -d' ' -f1

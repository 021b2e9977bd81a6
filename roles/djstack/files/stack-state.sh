#!/bin/sh
# Prints one digest of what deploys of a stack leave on this host, so that a rerun can tell
# nothing drifted since the last complete deploy: the stack's containers (configuration,
# image, state and health), networks and volumes, the files under the paths given (content,
# mode and owner), djstack's firewall table and systemd units, and whether a certificate is
# due for renewal (a run renews an ACME certificate that expires within <seconds>). Any error
# fails it, so that a host it cannot read (no engine, say) is never taken for unchanged.
# Usage: stack-state.sh <label>=<value> <certificate>:<seconds>|"" <path>...
set -eu
label=$1
renew=$2
shift 2
listing=$(
  ids=$(docker ps -aq --no-trunc --filter "label=$label")
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2016,SC2086 # a Go template, not shell; one argument per id
    docker inspect --format 'container {{.Name}} {{.Image}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}} {{range $net, $_ := .NetworkSettings.Networks}}{{$net}},{{end}} {{json .Config}} {{json .HostConfig}}' $ids
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
  if [ -n "$renew" ] && ! openssl x509 -noout -in "${renew%:*}" -checkend "${renew##*:}" >/dev/null; then
    echo "renewal due ${renew%:*}"
  fi
  if command -v nft >/dev/null; then nft list table inet djstack_firewall 2>/dev/null || true; fi
  if [ -d /run/systemd/system ]; then
    systemctl is-active djstack-firewall.service 'djstack-backup-*' 2>/dev/null || true
  fi
)
printf '%s\n' "$listing" | LC_ALL=C sort | sha256sum | cut -d' ' -f1

#!/bin/sh
# Managed by djstack (role images). Like the official redis image: arguments starting
# with '-' or a *.conf file are passed to redis-server. REDIS_PASSWORD_FILE (djstack's
# addition) sets requirepass from a file, so the password is in no argument or variable.
set -eu

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	umask 077
	printf 'requirepass "%s"\n' "$(cat "$REDIS_PASSWORD_FILE")" >/run/redis/auth.conf
	set -- "$@" --include /run/redis/auth.conf
fi

exec "$@"

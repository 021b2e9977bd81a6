#!/usr/bin/env bash
# Managed by djstack (role postgres). Run inside the PostgreSQL container over its local
# socket (trust), as the cluster's superuser. Makes the app's role own its database and
# nothing more: no superuser, no CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, no
# membership of pg_read_server_files or pg_execute_server_program; its password is the one
# in /run/secrets/postgres_password. The superuser keeps no password, so nobody logs in as it
# over the network. A cluster whose superuser is the app's role (created so by the image's
# POSTGRES_USER) is converted in place: that role is renamed to the administrator's name and
# the app gets a role of its own that takes over the database and every object in it.
# Prints what it changed ("unchanged" when nothing); any error fails it.
# Usage: djstack-pgroles.sh <app role> <admin role> <database> [extension]...
set -euo pipefail
app=$1
admin=$2
database=$3
shift 3
password="$(cat /run/secrets/postgres_password)"
changes=()

sql() {
	local user=$1 db=$2
	shift 2
	psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 \
		--username "$user" --dbname "$db" "$@"
}

# The bootstrap superuser (oid 10) is whoever the image's POSTGRES_USER named at initdb.
superuser=$(sql "$admin" postgres -c 'SELECT rolname FROM pg_roles WHERE oid = 10' 2>/dev/null ||
	sql "$app" postgres -c 'SELECT rolname FROM pg_roles WHERE oid = 10')
if [ "$superuser" = "$app" ]; then
	# A role cannot rename itself: a temporary superuser does it.
	sql "$app" postgres -c 'CREATE ROLE djstack_convert SUPERUSER LOGIN'
	sql djstack_convert postgres --set from="$app" --set to="$admin" <<<'ALTER ROLE :"from" RENAME TO :"to";'
	sql "$admin" postgres -c 'DROP ROLE djstack_convert'
	changes+=("superuser $app renamed $admin")
fi

state() {
	sql "$admin" "$database" --set app="$app" --set db="$database" <<'SQL'
SELECT concat_ws(' ',
  (SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls OR NOT rolcanlogin
     FROM pg_roles WHERE rolname = :'app'),
  (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'db'),
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> :'app'),
  (SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
     WHERE r.rolname = :'app'),
  (SELECT rolpassword IS NOT NULL FROM pg_authid WHERE oid = 10));
SQL
}
before=$(state)

sql "$admin" postgres --set app="$app" --set db="$database" <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') AS missing \gset
\if :missing
CREATE ROLE :"app" LOGIN;
\endif
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT format('REVOKE %I FROM %I', r.rolname, :'app') FROM pg_auth_members m
  JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :'app' \gexec
ALTER DATABASE :"db" OWNER TO :"app";
SQL
sql "$admin" postgres --set admin="$admin" <<<'ALTER ROLE :"admin" PASSWORD NULL;'
# Tables first: a table's owner carries its own sequences with it.
sql "$admin" "$database" --set app="$app" <<'SQL'
SELECT format('ALTER %s public.%I OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                             ELSE 'TABLE' END, c.relname, :'app')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND pg_get_userbyid(c.relowner) <> :'app' \gexec
SELECT format('ALTER SEQUENCE public.%I OWNER TO %I', c.relname, :'app')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> :'app'
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) \gexec
SELECT format('ALTER TYPE public.%I OWNER TO %I', t.typname, :'app')
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('c', 'd', 'e') AND t.typrelid = 0
   AND pg_get_userbyid(t.typowner) <> :'app' \gexec
SQL
for extension in "$@"; do
	if [ -z "$(sql "$admin" "$database" --set name="$extension" <<<"SELECT 1 FROM pg_extension WHERE extname = :'name'")" ]; then
		sql "$admin" "$database" --set name="$extension" <<<'CREATE EXTENSION :"name";'
		changes+=("extension $extension created")
	fi
done
[ "$(state)" = "$before" ] || changes+=("privileges of $app made least")

# The password is right when the app can log in with it over TCP, as the containers do.
if ! PGPASSWORD="$password" psql --no-psqlrc --quiet --host 127.0.0.1 --username "$app" \
	--dbname "$database" --command 'SELECT 1' >/dev/null 2>&1; then
	sql "$admin" postgres --set app="$app" --set password="$password" <<<"ALTER ROLE :\"app\" PASSWORD :'password';"
	changes+=("password of $app set")
fi

if [ "${#changes[@]}" -gt 0 ]; then printf '%s\n' "${changes[@]}"; else echo unchanged; fi

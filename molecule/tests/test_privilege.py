"""Least privilege: the app's database role owns its database and nothing more, only Nginx
reaches gunicorn's socket, web cannot rewrite the static files, unknown host names are
closed, and a fork loop stops at its container's process limit."""

import json
import shlex

import pytest
from conftest import SERVICES, health, wait_for


@pytest.fixture(scope="module")
def facts(host) -> dict:
    variables = host.ansible.get_variables()
    return {
        "db": variables.get("djstack_database_name", "app"),
        "user": variables.get("djstack_database_user", "app"),
        "superuser": variables.get("postgres_superuser", "postgres"),
        "static_root": variables.get("djstack_app_static_root", "/srv/static"),
    }


def test_the_apps_database_role_is_no_superuser_and_owns_its_database(docker, stack, facts) -> None:
    def sql(query: str) -> str:
        return docker(
            "exec", stack.container("postgres"), "psql", "-U", facts["superuser"], "-d", facts["db"],
            "-Atc", query,
        ).strip()  # fmt: skip

    attributes = sql(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin"
        f" FROM pg_roles WHERE rolname = '{facts['user']}'"
    )
    assert attributes == "f|f|f|f|f|t", f"{facts['user']}: {attributes}"
    members = f"SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '{facts['user']}'"
    assert sql(members) == "0", "the app's role is a member of another role"
    assert (
        sql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{facts['db']}'")
        == facts["user"]
    )
    foreign = f"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> '{facts['user']}'"
    assert sql(foreign) == "0", "a table of the app belongs to another role"
    assert sql("SELECT rolpassword IS NULL FROM pg_authid WHERE oid = 10") == "t", (
        "the superuser has a password"
    )


PROBE = """
from django.db import connection
for query in ("COPY (SELECT 1) TO PROGRAM 'true'", "SELECT pg_read_file('/run/secrets/postgres_password')",
              "CREATE DATABASE djstack_escape", "CREATE ROLE djstack_escape"):
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
        print("ALLOWED", query)
    except Exception as error:
        print("REFUSED", str(error).splitlines()[0])
"""


def test_the_app_can_run_no_program_and_read_no_server_file_in_postgres(django) -> None:
    lines = django(PROBE).splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith("REFUSED") for line in lines), lines
    assert all("permission denied" in line or "must be" in line for line in lines), lines


def test_only_nginx_and_web_reach_gunicorns_socket(host, stack, http) -> None:
    if stack.flavour == "dev":
        pytest.skip("dev's runserver listens on TCP only")
    directory = f"/var/lib/djstack/{stack.name}/web-socket"
    socket_path = f"{directory}/{stack.container('web')}.sock"
    assert host.file(directory).mode == 0o750
    assert host.file(socket_path).mode & 0o007 == 0, oct(host.file(socket_path).mode)
    connect = f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({socket_path!r})"
    other = host.run(f"runuser -u nobody -- python3 -c {shlex.quote(connect)}")
    assert other.rc != 0 and "Permission denied" in other.stderr, other.stderr
    assert http("/healthz").status == 200, "Nginx no longer reaches web"


def test_web_cannot_write_the_static_files_it_serves(docker, stack, facts) -> None:
    result = docker(
        "exec",
        stack.container("web"),
        "touch",
        f"{facts['static_root']}/djstack-probe",
        check=False,
    )
    assert result == "", "touch printed something"
    listing = docker("exec", stack.container("web"), "ls", facts["static_root"])
    assert "djstack-probe" not in listing, "web wrote into the static files"


RAW = """
import socket, ssl, sys
port, tls, name = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
raw = socket.create_connection(("127.0.0.1", port), timeout=5)
if tls:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = context.wrap_socket(raw, server_hostname="127.0.0.1")
raw.sendall(f"GET / HTTP/1.1\\r\\nHost: {name}\\r\\nConnection: close\\r\\n\\r\\n".encode())
answer = b""
while chunk := raw.recv(4096):
    answer += chunk
print(answer.split(b"\\r\\n\\r\\n")[0].decode())
"""


def test_an_unknown_host_name_is_closed_and_never_redirected_to(host, stack) -> None:
    def head(port: int, tls: bool, name: str) -> str:
        args = " ".join(shlex.quote(a) for a in (RAW, str(port), "1" if tls else "0", name))
        return host.check_output(f"python3 -c {args}")

    assert head(stack.http_port, False, "evil.example") == "", (
        "an unknown name got an answer on HTTP"
    )
    if stack.tls:
        assert head(stack.https_port, True, "evil.example") == "", (
            "an unknown name got an answer on HTTPS"
        )
        redirect = head(stack.http_port, False, "127.0.0.1")
        assert f"Location: https://127.0.0.1:{stack.https_port}/" in redirect, redirect


def test_every_container_has_a_process_limit_and_a_fork_loop_stops_there(docker, stack) -> None:
    limits = {
        service: json.loads(docker("inspect", stack.container(service)))[0]["HostConfig"][
            "PidsLimit"
        ]
        for service in SERVICES
    }
    assert all(limit and limit > 0 for limit in limits.values()), limits
    beat = stack.container("beat")
    # Each child lives longer than the loop can take on a loaded machine (with `sleep 3`, a
    # remote server beside the other lane forked so slowly that 512 were never alive at once).
    loop = "exec 2>&1; i=0; while [ $i -lt 2000 ]; do sleep 20 & i=$((i+1)); done; echo started $i"
    result = docker("exec", beat, "sh", "-c", loop, check=False)
    assert "started 2000" not in result, (
        f"2000 processes started in {beat} ({limits['beat']} allowed)"
    )
    assert "fork" in result.lower(), (
        f"2000 processes started in {beat} ({limits['beat']} allowed): {result}"
    )
    # The init of the container reaps what the loop left, and the service recovers.
    wait_for(
        lambda: health(docker, beat) == "healthy",
        90,
        f"{beat} healthy again after the fork loop",
    )

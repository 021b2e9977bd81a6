"""Only what the flavour allows is reachable from outside the stack network."""

import json

import pytest
from conftest import SERVICES


def published(inspect, container: str) -> list[tuple[str, str]]:
    bindings = inspect(container)["HostConfig"]["PortBindings"] or {}
    return [(b["HostIp"], b["HostPort"]) for spec in bindings.values() for b in spec or []]


def test_published_ports_match_the_flavour(inspect, stack) -> None:
    ports = {service: published(inspect, stack.container(service)) for service in SERVICES}
    if stack.flavour == "prod":
        exposed = sorted(service for service, bindings in ports.items() if bindings)
        assert exposed == ["nginx"], f"prod publishes more than Nginx: {ports}"
    else:
        addresses = {ip for bindings in ports.values() for ip, _ in bindings}
        assert addresses == {"127.0.0.1"}, f"dev publishes beyond 127.0.0.1: {ports}"


def test_postgres_and_redis_are_unreachable_from_outside_the_stack_network(
    docker, inspect, stack
) -> None:
    targets = []
    for service, port in (("postgres", 5432), ("redis", 6379)):
        networks = inspect(stack.container(service))["NetworkSettings"]["Networks"]
        assert list(networks) == [stack.name], f"{service} is on other networks: {list(networks)}"
        targets.append((networks[stack.name]["IPAddress"], port))
    probe = (
        "import json, socket, sys\n"
        "out = {}\n"
        "for ip, port in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        socket.create_connection((ip, port), timeout=3).close()\n"
        "        out[f'{ip}:{port}'] = 'open'\n"
        "    except OSError as exc:\n"
        "        out[f'{ip}:{port}'] = type(exc).__name__\n"
        "print(json.dumps(out))\n"
    )
    image = inspect(stack.container("web"))["Config"]["Image"]
    # A container on Docker's default bridge stands for any other workload on the host.
    result = json.loads(
        docker(
            "run",
            "--rm",
            "--network",
            "bridge",
            "--entrypoint",
            "python3",
            image,
            "-c",
            probe,
            json.dumps(targets),
        )
    )
    assert "open" not in result.values(), f"reachable from outside the stack network: {result}"


def test_redis_refuses_commands_without_its_password(docker, stack) -> None:
    reply = docker("exec", stack.container("redis"), "redis-cli", "ping", check=False)
    assert "NOAUTH" in reply, f"Redis answered without a password: {reply!r}"


def redis_cli(docker, stack, user: str, password_file: str, *command: str) -> str:
    script = f'REDISCLI_AUTH="$(cat /run/secrets/{password_file})" redis-cli --no-auth-warning --user {user} "$@"'
    return docker("exec", stack.container("redis"), "sh", "-c", script, "redis-cli", *command)


@pytest.mark.parametrize(
    "command",
    [
        ("FLUSHALL",),
        ("CONFIG", "GET", "dir"),
        ("KEYS", "*"),
        ("ACL", "LIST"),
        ("SHUTDOWN",),
    ],
)
def test_app_user_is_denied_dangerous_redis_commands(docker, stack, command) -> None:
    reply = redis_cli(docker, stack, "app", "redis_password", *command)
    assert reply.startswith("NOPERM"), f"app user ran {' '.join(command)}: {reply!r}"


def test_app_user_works_and_admin_user_runs_what_the_app_may_not(docker, stack) -> None:
    assert (
        redis_cli(docker, stack, "app", "redis_password", "SET", "djstack:acl-probe", "1").strip()
        == "OK"
    )
    assert redis_cli(
        docker, stack, "admin", "admin_password", "CONFIG", "GET", "appendonly"
    ).split() == [
        "appendonly",
        "yes",
    ]
    assert (
        redis_cli(docker, stack, "app", "redis_password", "DEL", "djstack:acl-probe").strip() == "1"
    )


def test_redis_default_user_is_off_and_acl_stores_no_plain_password(docker, stack) -> None:
    acl = docker("exec", stack.container("redis"), "cat", "/run/secrets/users.acl")
    password = docker(
        "exec", stack.container("redis"), "cat", "/run/secrets/redis_password"
    ).strip()
    assert "user default off" in acl
    assert password and password not in acl

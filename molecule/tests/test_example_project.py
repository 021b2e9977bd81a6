"""The roles deploy a project they were not written for: examples/bookshop has another
project name, a settings package, its own environment variable names, secrets read as URL
files, two queues with a worker group each and django-celery-beat's database scheduler.
examples/inventory deploys it with variables only, beside the scenario's stack."""

import base64
import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "examples" / "inventory"
STACK = "bookshop"
HTTPS_PORT = 19443
SERVICES = ("postgres", "redis", "search", "mail", "beat", "nginx")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)


def deploy(*extra: str) -> subprocess.CompletedProcess:
    """Run site.yml on the example inventory with the project's own Ansible settings (not
    Molecule's), returning stdout and stderr together with colour codes removed."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_FORCE_COLOR", None)
    result = subprocess.run(
        ["ansible-playbook", "site.yml", "-i", str(INVENTORY), *extra],
        capture_output=True, text=True, check=False, cwd=ROOT, env=env,
    )  # fmt: skip
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    return subprocess.CompletedProcess(result.args, result.returncode, output, "")


def docker(*args: str) -> str:
    result = run("docker", *args)
    assert result.returncode == 0, f"docker {args}: {result.stderr[-1500:]}"
    return result.stdout


def labelled(kind: str) -> list[str]:
    extra = ["--all"] if kind == "container" else []
    label = f"label=io.djstack.stack={STACK}"
    return docker(kind, "ls", *extra, "--quiet", "--filter", label).split()


def web_container() -> str:
    label = [
        "--filter",
        f"label=io.djstack.stack={STACK}",
        "--filter",
        "label=io.djstack.service=web",
    ]
    names = docker("ps", *label, "--format", "{{.Names}}").split()
    assert len(names) == 1, f"expected one bookshop web container, found {names}"
    return names[0]


def in_project(code: str) -> str:
    """Run Python in the bookshop's web container, with its Celery app and Django set up."""
    prelude = "from config.celery_app import app\nimport django\ndjango.setup()\n"
    return docker("exec", web_container(), "python", "-c", prelude + code).strip()


@pytest.fixture(scope="module")
def bookshop(host):
    variables = host.ansible.get_variables()
    if variables.get("djstack_flavour") != "prod" or variables.get("ansible_connection") != "local":
        pytest.skip(
            "the example project is deployed once, on the local engine of the prod scenario"
        )
    deployed = deploy()
    try:
        assert deployed.returncode == 0, (deployed.stdout + deployed.stderr)[-4000:]
        yield deployed
    finally:
        for kind in ("container", "volume", "network"):
            found = labelled(kind)
            if found:
                docker(kind, "rm", *(["--force"] if kind != "network" else []), *found)


def test_no_role_names_the_reference_app() -> None:
    found = run("grep", "-rnE", r"myproject|apps\.core|apps/core", "roles", "--exclude-dir=defaults",
                "--exclude=argument_specs.yml")  # fmt: skip
    assert found.returncode == 1, f"roles mention the reference app:\n{found.stdout}"


def test_every_container_is_healthy_and_the_site_is_ready(bookshop) -> None:
    for service in SERVICES:
        health = docker("inspect", "--format", "{{.State.Health.Status}}", f"{STACK}-{service}")
        assert health.strip() == "healthy", f"{STACK}-{service} is {health.strip()}"
    context = ssl.create_default_context(cafile=f"/etc/djstack/{STACK}/tls/fullchain.pem")
    url = f"https://127.0.0.1:{HTTPS_PORT}/-/ready"
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        assert response.status == 200
        assert json.load(response) == {"ready": True}


def test_web_serves_the_asgi_app_and_nginx_passes_websocket_upgrades(bookshop) -> None:
    env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", web_container()))
    assert "GUNICORN_WORKER_CLASS=uvicorn_worker.UvicornWorker" in env, env
    assert "DJSTACK_ASGI_APP=config.asgi:application" in env, env
    context = ssl.create_default_context(cafile=f"/etc/djstack/{STACK}/tls/fullchain.pem")
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET /ws/echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    accept = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    payload, mask = b"hello from the bookshop test", os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask
    frame += bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    with (
        socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(handshake.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = tls.recv(4096)
            assert chunk, f"connection closed during the handshake: {head!r}"
            head += chunk
        head, _, reply = head.partition(b"\r\n\r\n")
        status, *lines = head.decode().split("\r\n")
        assert status.startswith("HTTP/1.1 101"), head
        headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
        assert headers.get("sec-websocket-accept") == accept, headers
        tls.sendall(frame)
        while len(reply) < 2 + len(payload):
            chunk = tls.recv(4096)
            assert chunk, f"connection closed before the echo: {reply!r}"
            reply += chunk
    assert reply[:2] == bytes([0x81, len(payload)]) and reply[2:] == payload, reply


def test_the_project_reads_its_own_variable_names_and_no_secret_is_in_the_environment(
    bookshop,
) -> None:
    env = dict(
        line.split("=", 1)
        for line in json.loads(
            docker("inspect", "--format", "{{json .Config.Env}}", "bookshop-mail")
        )
    )
    assert env["SQL_HOST"] == "postgres" and env["SQL_DATABASE"] == "bookshop"
    assert env["CELERY_BROKER_FILE"] == "/run/secrets/redis_broker_url"
    assert not {"DATABASE_HOST", "REDIS_BROKER_URL", "DJANGO_DEBUG"} & set(env), (
        "reference app names leak"
    )
    secrets = [(INVENTORY / ".secrets" / name).read_text().strip()
               for name in ("postgres_password", "redis_password", "secret_key")]  # fmt: skip
    for value in env.values():
        assert not any(secret in value for secret in secrets), "a secret is in docker inspect"


def test_each_queue_is_served_by_its_own_worker_group(bookshop) -> None:
    result = in_project(
        "from catalog.tasks import reindex, send_receipt\n"
        "print(reindex.delay().get(timeout=30)['worker'], send_receipt.delay(7).get(timeout=30)['worker'])"
    )
    assert result.split() == ["bookshop-search", "bookshop-mail"]
    search = docker("inspect", "--format", "{{json .Config.Cmd}}", "bookshop-search")
    assert "--queues=search" in search and "--concurrency=2" in search


def test_beat_runs_the_schedule_from_the_database(bookshop) -> None:
    tasks = in_project(
        "from django_celery_beat.models import PeriodicTask\n"
        "print(*PeriodicTask.objects.values_list('name', flat=True))"
    )
    assert "heartbeat" in tasks.split(), (
        f"beat did not install its schedule in the database: {tasks}"
    )
    count = "from catalog.models import Heartbeat\nprint(Heartbeat.objects.count())"
    before = int(in_project(count))
    wait_for(lambda: int(in_project(count)) >= before + 2, 30, "two heartbeats sent by beat")


def test_a_second_run_changes_nothing(bookshop) -> None:
    again = deploy()
    assert again.returncode == 0, again.stdout[-3000:]
    assert re.search(r"localhost\s*:.*changed=0\s", again.stdout), again.stdout[-1500:]


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("djstack_app_celery=config.nope", "djstack_app_celery"),
        ("djstack_app_settings_module=config.settings.missing", "djstack_app_settings_module"),
    ],
)
def test_a_wrong_project_path_stops_the_deploy_naming_it_before_anything_changes(
    bookshop, setting, named
) -> None:
    running = docker(
        "ps", "--quiet", "--no-trunc", "--filter", f"label=io.djstack.stack={STACK}"
    ).split()
    failed = deploy("-e", setting)
    assert failed.returncode != 0
    assert f"{named}: the " in failed.stdout and "does not load" in failed.stdout, failed.stdout[
        -2000:
    ]
    after = docker(
        "ps", "--quiet", "--no-trunc", "--filter", f"label=io.djstack.stack={STACK}"
    ).split()
    assert sorted(after) == sorted(running), "a container changed although the project did not load"

"""The operators' verbs, through the same front door for every inventory: status, logs,
manage (a superuser created at a terminal), run, maintenance, plan and destroy, and none of
them prints a secret. The scripts run from the control node; over SSH for a remote host."""

import json
import os
import pty
import re
import secrets
import select
import shlex
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SERVICES, checked_once, held, secret_values, wait_for

OPS = [sys.executable, str(ROOT / "roles/deploy/files/djstack-ops.py")]


@pytest.fixture(scope="module")
def inventory(request) -> str:
    return request.config.getoption("ansible_inventory")


def ops(inventory: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*OPS, "-i", inventory, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=timeout)  # fmt: skip


def ids_and_starts(docker, stack) -> list:
    names = docker(
        "ps", "--all", "--format", "{{.Names}}", "--filter", f"label=io.djstack.stack={stack.name}"
    ).split()
    return sorted(
        (c["Name"], c["Id"], c["State"]["StartedAt"]) for c in json.loads(docker("inspect", *names))
    )


def test_status_lists_every_service_healthy_and_fails_naming_a_stopped_one(
    host, docker, playbook, stack
) -> None:
    healthy = playbook("playbooks/status.yml")
    output = healthy.stdout + healthy.stderr
    assert healthy.returncode == 0, output[-3000:]
    table = [
        line for line in output.splitlines() if stack.name in line and "running (healthy)" in line
    ]
    assert {
        service for service in SERVICES if any(stack.container(service) in line for line in table)
    } == set(SERVICES)
    assert "readiness through Nginx: 200" in output
    with held(host, docker, stack, "redis") as redis:
        sick = playbook("playbooks/status.yml")
    output = sick.stdout + sick.stderr
    assert sick.returncode != 0, "status exited 0 with Redis stopped"
    assert f"redis ({redis} on" in output and "Not healthy" in output, output[-2000:]


def test_logs_return_the_workers_lines_and_follow_streams_new_ones(
    host, docker, inventory, stack
) -> None:
    # A line of the check's own in the worker's log (written where its PID 1 writes), asked
    # for by time: a worker reconnecting after the status check's Redis outage may log
    # tracebacks by the hundred lines between any two reads, so no tail of N lines would do.
    line = f"djstack-logs-{secrets.token_hex(4)}"
    since = int(host.check_output("date +%s")) - 1
    docker("exec", stack.container("worker"), "sh", "-c", f"echo {line} > /proc/1/fd/1")
    worker = ops(inventory, "logs", "worker", "--since", str(since), "--lines", "100000")
    assert worker.returncode == 0, worker.stderr[-2000:] + worker.stdout[-2000:]
    assert line in worker.stdout.split(), f"{line} not in {worker.stdout[-2000:]}"
    following = subprocess.Popen([*OPS, "-i", inventory, "logs", "nginx", "--lines", "0", "--follow"], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    marker = f"/djstack-follow-{secrets.token_hex(4)}"
    port, scheme = (stack.https_port, "https") if stack.tls else (stack.http_port, "http")
    request = (f"python3 -c \"import ssl, urllib.request; ssl._create_default_https_context = ssl._create_unverified_context; "
               f"urllib.request.urlopen('{scheme}://127.0.0.1:{port}{marker}')\"")  # fmt: skip
    try:
        # Every request comes after the stream was asked for (--lines 0 shows none from
        # before); the verb first runs the targets play, so requests repeat until one shows.
        seen, deadline, asked = "", time.monotonic() + 90, 0.0
        while marker not in seen and time.monotonic() < deadline:
            if time.monotonic() - asked > 3:
                host.run(request)
                asked = time.monotonic()
            ready, _, _ = select.select([following.stdout], [], [], 1)
            if ready:
                seen += following.stdout.readline()
        assert marker in seen, f"no line for {marker} while following: {seen[-1500:]}"
    finally:
        following.terminate()
        following.wait(10)


def converse(
    command: list[str], answers: list[tuple[str, str]], timeout: float = 120
) -> tuple[int, str]:
    """Run command at a pseudo-terminal, answering each prompt as it comes."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execvp(command[0], command)
    seen, pending, deadline = "", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096).decode(errors="replace")
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            while pending and pending[0][0] in seen.rsplit("\n", 1)[-1]:
                os.write(fd, (pending.pop(0)[1] + "\n").encode())
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen


LOGIN = """
import http.cookiejar, re, ssl, sys, urllib.parse, urllib.request
base, user, password = sys.argv[1:4]
context = ssl._create_unverified_context()
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=context))
page = opener.open(base + "/admin/login/").read().decode()
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": user, "password": password, "next": "/admin/"})
request = urllib.request.Request(base + "/admin/login/", data=data.encode(), headers={"Referer": base + "/admin/login/"})
print("Site administration" in opener.open(request).read().decode())
"""


def test_createsuperuser_at_a_terminal_makes_a_user_who_logs_in_to_the_admin(
    host, inventory, stack
) -> None:
    user, password = f"ops{secrets.token_hex(3)}", secrets.token_urlsafe(18)
    code, seen = converse(
        [*OPS, "-i", inventory, "manage", "createsuperuser"],
        [("Username", user), ("Email address", f"{user}@example.com"), ("Password:", password), ("Password (again)", password)],
    )  # fmt: skip
    assert code == 0, seen[-2000:]
    assert "Superuser created successfully" in seen, seen[-2000:]
    assert password not in seen, "the password was echoed"
    scheme, port = ("https", stack.https_port) if stack.tls else ("http", stack.http_port)
    logged_in = host.check_output(
        f"python3 -c {shlex.quote(LOGIN)} {scheme}://127.0.0.1:{port} {user} {shlex.quote(password)}"
    )
    assert logged_in.strip() == "True", "the new superuser could not log in to /admin/"


def test_manage_passes_the_commands_exit_status_through(inventory) -> None:
    assert ops(inventory, "manage", "migrate", "--check").returncode == 0
    unknown = ops(inventory, "manage", "no_such_command")
    assert unknown.returncode == 1, unknown.stdout[-1000:] + unknown.stderr[-1000:]
    assert "Unknown command" in unknown.stdout + unknown.stderr


def test_maintenance_answers_503_but_for_the_probe_and_survives_a_deploy(
    http, playbook, stack
) -> None:
    checked_once(stack, "maintenance")

    def maintenance(on: bool) -> str:
        result = playbook(
            "playbooks/maintenance.yml", "-e", f"nginx_maintenance_on={str(on).lower()}"
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-2000:]
        return result.stdout

    try:
        assert "changed=1" in maintenance(True)
        assert "changed=0" in maintenance(True), "turning maintenance on twice changed something"
        page = http("/")
        assert page.status == 503 and "maintenance" in page.body.lower(), (
            page.status,
            page.body[:300],
        )
        assert http("/nginx-health").status == 200
        deployed = playbook("site.yml")
        assert deployed.returncode == 0, (deployed.stdout + deployed.stderr)[-2000:]
        assert http("/").status == 503, "a deploy ended maintenance"
    finally:
        assert "changed=1" in maintenance(False)
    assert "changed=0" in maintenance(False)
    assert http("/").status == 200


def test_plan_names_exactly_the_container_a_changed_variable_would_replace(
    docker, playbook, stack
) -> None:
    checked_once(stack, "the plan")
    before = ids_and_starts(docker, stack)
    result = playbook(
        "playbooks/plan.yml", "--check", "--diff", "-e", "celery_worker_concurrency=5"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    planned = re.findall(r"would (?:change|start|create or start) (\S+?):", output)
    assert set(planned) == {stack.container("worker")}, planned
    assert "--concurrency=5" in output
    assert ids_and_starts(docker, stack) == before, "the plan changed a container"


def test_no_verb_prints_a_secret_even_verbose(host, inventory, playbook, stack) -> None:
    checked_once(stack, "secrets in the verbs' output")
    values = [v for v in secret_values(host, stack) if "\n" not in v]
    outputs = [
        playbook("playbooks/status.yml", "-vvv"),
        playbook("playbooks/plan.yml", "--check", "--diff", "-vvv"),
        playbook("playbooks/maintenance.yml", "-e", "nginx_maintenance_on=false", "-vvv"),
        ops(inventory, "--ansible-arg=-vvv", "logs", "web", "--lines", "200"),
        ops(inventory, "--ansible-arg=-vvv", "run", "env"),
    ]
    text = "".join(r.stdout + r.stderr for r in outputs)
    assert all(r.returncode == 0 for r in outputs), [r.returncode for r in outputs]
    assert sum(1 for v in values if v in text) == 0, "a secret value appears in a verb's output"


def test_destroy_keeps_the_data_and_the_next_deploy_brings_it_back(
    docker, django, playbook, stack
) -> None:
    checked_once(stack, "destroy")
    count = "from apps.core.models import Visit; Visit.objects.create(path='/before-destroy'); print(Visit.objects.count())"
    rows = django(count).strip()
    refused = playbook("playbooks/destroy.yml")
    assert refused.returncode != 0 and f"CONFIRM={stack.name}" in refused.stdout + refused.stderr
    destroyed = playbook("playbooks/destroy.yml", "-e", f"deploy_destroy_confirm={stack.name}")
    assert destroyed.returncode == 0, (destroyed.stdout + destroyed.stderr)[-2000:]
    assert (
        docker("ps", "--all", "--quiet", "--filter", f"label=io.djstack.stack={stack.name}").strip()
        == ""
    )
    volumes = docker(
        "volume", "ls", "--quiet", "--filter", f"label=io.djstack.stack={stack.name}"
    ).split()
    assert f"{stack.name}-pgdata" in volumes, volumes
    deployed = playbook("site.yml")
    assert deployed.returncode == 0, (deployed.stdout + deployed.stderr)[-3000:]
    wait_for(lambda: django("print(1)").strip() == "1", 60, "web serving again")
    after = django("from apps.core.models import Visit; print(Visit.objects.count())").strip()
    assert int(after) == int(rows), f"{rows} rows before destroy, {after} after the next deploy"

"""Deploy control, on the remote server: a worker replaced mid-queue loses no task, a worker
that cannot start stops the deploy by name, and the deploy lock stops a second run, naming
its holder, until it is broken or its run is dead."""

import json
import os
import shlex
import subprocess
import time

import pytest
from conftest import SERVICES, checked_once, ok


@pytest.fixture(autouse=True)
def prod_only(stack) -> None:
    # Nothing here depends on the target, and the remote scenario's lane has room.
    checked_once(stack, "deploy control (workers, the deploy lock)", remote=True)


SEND = """
import json
import shlex
from apps.core.tasks import slow_echo
print(json.dumps([slow_echo.delay(n, 0.4).id for n in range(200)]))
"""

COLLECT = """
import json
import shlex
from celery.result import AsyncResult
print(json.dumps([AsyncResult(i).get(timeout=240) for i in IDS]))
"""


def test_worker_replaced_mid_queue_loses_no_task(django, stack, playbook) -> None:
    ids = json.loads(django(SEND))
    time.sleep(3)
    # A changed setting recreates the worker: SIGTERM, warm shutdown, a new container.
    ok(playbook("site.yml", "-e", "celery_worker_stop_timeout=61"))
    results = json.loads(django(COLLECT.replace("IDS", json.dumps(ids))))
    assert results == list(range(200))


def test_worker_that_cannot_start_stops_the_deploy_naming_it(stack, playbook) -> None:
    # Worker and beat are started side by side and awaited together: a worker that never
    # becomes healthy must still fail the deploy, by name.
    worker = stack.container("worker")
    broken = {"celery_worker_extra_env": {"DJANGO_SETTINGS_MODULE": "myproject.no_such_settings"}}
    result = playbook("site.yml", "-e", json.dumps(broken))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Container {worker} is " in output, output[-3000:]
    # The worker's own traceback, not a pointer to `docker logs`.
    assert "No module named 'myproject.no_such_settings'" in output, output[-3000:]
    ok(playbook("site.yml"))


def lock_path(stack) -> str:
    return f"/var/lib/djstack/{stack.name}/deploy.lock"


def test_concurrent_deploy_is_refused_naming_the_holder_until_broken(
    host, playbook, stack, docker
) -> None:
    holder = {
        "by": "ci@elsewhere",
        "pid": 4242,
        "since": "2026-01-01T00:00:00Z",
        "playbook": "deploy",
    }
    lock = lock_path(stack)
    host.run_test(f"mkdir -p {lock} && echo {shlex.quote(json.dumps(holder))} > {lock}/holder")
    names = [stack.container(service) for service in SERVICES]
    before = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", *names)
    try:
        result = playbook("site.yml")
        output = result.stdout + result.stderr
        assert result.returncode != 0, "a second deploy ran while the lock was held"
        for expected in (
            "ci@elsewhere, pid 4242",
            "since 2026-01-01T00:00:00Z",
            "-e deploy_lock_break=true",
        ):
            assert expected in output, output[-2000:]
        assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", *names) == before
        ok(playbook("site.yml", "-e", "deploy_lock_break=true"))
        assert not host.file(lock).exists, "the lock outlived the run"
    finally:
        host.run(f"rm -rf {lock}")


def this_control_node() -> str:
    me = subprocess.run(
        ["sh", "-c", 'echo "$(id -un)@$(hostname)"'], capture_output=True, text=True, check=True
    )
    return me.stdout.strip()


def started(pid: int) -> str:
    ps = ["ps", "-o", "lstart=", "-p", str(pid)]
    return subprocess.run(
        ps, capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"}
    ).stdout.strip()


def test_lock_of_a_dead_run_whose_pid_was_reused_is_taken_over(host, playbook, stack) -> None:
    # This test's own process holds the dead run's pid now, but started at another time.
    holder = {
        "by": this_control_node(),
        "pid": os.getpid(),
        "started": "Thu Jan  1 00:00:00 2026",
        "since": "2026-01-01T00:00:00Z",
        "playbook": "deploy",
    }
    lock = lock_path(stack)
    host.run_test(f"mkdir -p {lock} && echo {shlex.quote(json.dumps(holder))} > {lock}/holder")
    try:
        ok(playbook("site.yml"))
        assert not host.file(lock).exists
    finally:
        host.run(f"rm -rf {lock}")


def test_lock_of_a_live_run_on_this_control_node_stops_the_deploy(
    host, playbook, stack, docker
) -> None:
    with subprocess.Popen(["sleep", "300"]) as live:
        holder = {
            "by": this_control_node(),
            "pid": live.pid,
            "started": started(live.pid),
            "since": "2026-01-01T00:00:00Z",
            "playbook": "deploy",
        }
        lock = lock_path(stack)
        host.run_test(f"mkdir -p {lock} && echo {shlex.quote(json.dumps(holder))} > {lock}/holder")
        before = docker("inspect", "--format", "{{.Id}}", stack.container("web"))
        try:
            result = playbook("site.yml")
            assert result.returncode != 0, "a deploy ran while a live run held the lock"
            assert f"pid {live.pid}" in result.stdout + result.stderr
            assert docker("inspect", "--format", "{{.Id}}", stack.container("web")) == before
            assert json.loads(host.file(f"{lock}/holder").content_string) == holder
        finally:
            live.kill()
            host.run(f"rm -rf {lock}")

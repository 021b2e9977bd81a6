"""Self-healing between deploys: a container stopped outside a deploy comes back within a
minute with no Ansible run, beat never runs twice, a service stopped on purpose stays down,
and a worker killed mid-task loses none of its tasks."""

import json
import time

import pytest
from conftest import ROOT, SERVICES, checked_once, wait_for

SEND = """
import json
from apps.core.tasks import slow_echo
print(json.dumps([slow_echo.delay(n, 0.3).id for n in range(200)]))
"""

COLLECT = """
import json, time
from celery.result import AsyncResult
deadline = time.monotonic() + TIMEOUT
print(json.dumps([AsyncResult(i).get(timeout=max(deadline - time.monotonic(), 1)) for i in IDS]))
"""


def state(docker, name: str) -> str:
    return docker(
        "inspect",
        "--format",
        "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
        name,
    ).strip()


def beats(docker, stack) -> int:
    return len(docker("ps", "--quiet", "--filter", f"label=io.djstack.stack={stack.name}",
                      "--filter", "label=io.djstack.service=beat").split())  # fmt: skip


def record(name: str, figures: dict) -> None:
    path = ROOT / ".cache" / "watchdog-figures.json"
    path.parent.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize("service", SERVICES)
def test_a_container_killed_outside_a_deploy_is_back_within_a_minute(
    docker, http, host, stack, service
) -> None:
    name = stack.container(service)
    docker("kill", name)
    killed = time.monotonic()
    most_beats = 0

    def back() -> bool:
        nonlocal most_beats
        most_beats = max(most_beats, beats(docker, stack))
        return (
            state(docker, name) in ("running healthy", "running") and http("/readyz").status == 200
        )

    wait_for(back, 60, f"{name} running, healthy and /readyz 200 again after docker kill")
    record(f"{stack.name} {service}", {"ready_again_s": round(time.monotonic() - killed, 1)})
    assert most_beats <= 1, "two beats ran at once"
    log = host.file(f"/var/lib/djstack/{stack.name}/releases.log").content_string.splitlines()
    revived = [json.loads(line) for line in log if '"revived"' in line]
    assert any(entry["container"] == name for entry in revived[-3:]), (
        "the release log did not record it"
    )


def test_a_service_stopped_on_purpose_stays_down_until_started(
    docker, host, playbook, stack
) -> None:
    checked_once(stack, "a deliberate stop")
    beat = stack.container("beat")

    def service(state_wanted: str) -> None:
        result = playbook(
            "playbooks/service.yml",
            "-e",
            "deploy_service=beat",
            "-e",
            f"deploy_service_state={state_wanted}",
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-2000:]

    service("stopped")
    # Three of the watchdog's looks (deploy_watchdog_interval, 15 s by default).
    interval = int(host.ansible.get_variables().get("deploy_watchdog_interval", 15))
    try:
        time.sleep(3 * interval + 2)
        assert state(docker, beat).startswith("exited"), (
            "the watchdog started a beat stopped on purpose"
        )
    finally:
        service("healthy")
    assert state(docker, beat) == "running healthy"


def test_a_worker_killed_mid_task_loses_none_of_its_tasks(django, docker, host, stack) -> None:
    checked_once(stack, "a worker killed mid-task")
    ids = json.loads(django(SEND))
    time.sleep(3)
    worker = stack.container("worker")
    pid = docker("inspect", "--format", "{{.State.Pid}}", worker).strip()
    # A crash, not a stop through Docker: the worker's main process dies at once.
    host.run_test(f"kill -KILL {pid}")
    killed = time.monotonic()
    results = json.loads(django(COLLECT.replace("IDS", json.dumps(ids)).replace("TIMEOUT", "60")))
    elapsed = time.monotonic() - killed
    record(f"{stack.name} worker SIGKILL", {"all_results_s": round(elapsed, 1)})
    assert results == list(range(200)), f"{len(results)} results"
    assert elapsed < 60, f"the last result came {elapsed:.0f} s after the kill"

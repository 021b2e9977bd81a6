"""Containers run as their own users, gain no privileges, and write only where they must."""

import pytest
from conftest import SERVICES

USERS = {"postgres": 999, "redis": 999, "web": 10001, "worker": 10001, "beat": 10001, "nginx": 101}
READ_ONLY = ("web", "worker", "beat", "nginx")


def process_status(docker, container: str) -> dict[str, str]:
    status = docker("exec", container, "cat", "/proc/1/status")
    return dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)


@pytest.mark.parametrize("service", SERVICES)
def test_main_process_runs_as_the_service_user_without_privileges(docker, stack, service) -> None:
    status = process_status(docker, stack.container(service))
    uids = {int(uid) for uid in status["Uid"].split()}
    assert uids == {USERS[service]}, f"{service} runs as uid {uids}, expected {USERS[service]}"
    assert status["NoNewPrivs"].strip() == "1", f"{service} may gain privileges"
    assert int(status["CapEff"], 16) == 0, f"{service} holds capabilities {status['CapEff']}"


@pytest.mark.parametrize("service", SERVICES)
def test_memory_and_cpu_are_limited(inspect, stack, service) -> None:
    config = inspect(stack.container(service))["HostConfig"]
    assert config["Memory"] > 0, f"{service} has no memory limit"
    assert config["NanoCpus"] > 0, f"{service} has no CPU limit"


@pytest.mark.parametrize("service", READ_ONLY)
def test_root_filesystem_is_read_only(docker, stack, service) -> None:
    result = docker(
        "exec",
        stack.container(service),
        "sh",
        "-c",
        "touch /djstack-probe 2>&1; echo rc=$?; touch /tmp/djstack-probe && echo tmp-ok",
        check=False,
    )
    assert "Read-only file system" in result and "rc=1" in result, f"{service}: {result}"
    assert "tmp-ok" in result, f"{service} cannot write its tmpfs /tmp: {result}"

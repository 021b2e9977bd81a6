"""Bad input stops site.yml before any host changes, in the validation play (the first that
can change one), with a one-line message naming the variable; correct but unusual input
goes through. The cases are a table, molecule/tests/bad_inputs.yml: adding one is one line."""

import json
import os
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SERVICES, checked_once, secret_values

TABLE = yaml.safe_load((Path(__file__).parent / "bad_inputs.yml").read_text())
# Runs side by side: each is mostly Ansible's own start-up, on the control node.
PARALLEL = 3
LIMIT_S = 15


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float


def case_id(case: dict) -> str:
    return json.dumps({**case["vars"], **case.get("inventory", {})}, separators=(",", ":"))[:80]


def run_site(inventory: str, case: dict, *extra: str) -> Run:
    args = ["ansible-playbook", "site.yml", "-i", inventory, "-e", json.dumps(case["vars"]), *extra]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as added:
        if case.get("inventory"):
            groups = {
                group: {"hosts": {host: {} for host in hosts}}
                for group, hosts in case["inventory"].items()
            }
            yaml.safe_dump({"all": {"children": groups}}, added)
            added.flush()
            args[4:4] = ["-i", added.name]
        started = time.monotonic()
        result = subprocess.run(
            args,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        )
    return Run(result.returncode, result.stdout + result.stderr, time.monotonic() - started)


def containers(docker, stack) -> list:
    # The scenario's own stack only: other scenarios deploy theirs on this engine meanwhile.
    names = docker(
        "ps", "--all", "--format", "{{.Names}}", "--filter", f"label=io.djstack.stack={stack.name}"
    ).split()
    return sorted(
        (c["Name"], c["Id"], c["State"]["StartedAt"]) for c in json.loads(docker("inspect", *names))
    )


@pytest.fixture(scope="module")
def refused_runs(request, host, docker, stack) -> dict:
    """Every refused case of the table, run against the converged stack, with the stack's
    containers before and after them all."""
    checked_once(stack, "input validation (the control node's own)")
    inventory = request.config.getoption("ansible_inventory")
    before = containers(docker, stack)
    with ThreadPoolExecutor(PARALLEL) as pool:
        runs = dict(
            zip(
                map(case_id, TABLE["refused"]),
                pool.map(lambda c: run_site(inventory, c), TABLE["refused"]),
                strict=True,
            )
        )
    assert len(runs) == len(TABLE["refused"]), "two cases of the table have one id"
    return {
        "runs": runs,
        "before": before,
        "after": containers(docker, stack),
        "secrets": secret_values(host, stack),
    }


@pytest.mark.parametrize("case", TABLE["refused"], ids=case_id)
def test_bad_input_stops_the_run_naming_it_before_any_host_changes(
    refused_runs, case: dict
) -> None:
    run = refused_runs["runs"][case_id(case)]
    assert run.returncode == 2, f"exit {run.returncode}, not 2: {run.output[-1500:]}"
    lines = [line for line in run.output.splitlines() if case["says"] in line]
    assert lines, f"no line says {case['says']!r}: {run.output[-1500:]}"
    assert "changed=0" in run.output and "changed=1" not in run.output, "something changed first"
    later_plays = run.output.split("PLAY [A Docker engine answers", 1)[1:]
    assert not any("TASK [" in play for play in later_plays), (
        "the run went past the validation play"
    )
    for secret in [case.get("secret"), *refused_runs["secrets"]]:
        assert not secret or secret not in run.output, "a secret value was printed"
    assert refused_runs["after"] == refused_runs["before"], "a container changed"
    assert run.seconds < LIMIT_S * PARALLEL, f"took {run.seconds:.1f} s"


def test_each_bad_input_is_refused_within_seconds(refused_runs) -> None:
    """Side by side, each run shares the machine with others: its time alone is shorter."""
    seconds = sorted(run.seconds for run in refused_runs["runs"].values())
    median = seconds[len(seconds) // 2]
    assert median / PARALLEL * 2 < LIMIT_S, f"median {median:.1f} s with {PARALLEL} side by side"


@pytest.fixture(scope="module")
def accepted_runs(request, stack) -> dict[str, Run]:
    """Every accepted case of the table in check mode, side by side like the refused ones."""
    checked_once(stack, "input validation (the control node's own)")
    inventory = request.config.getoption("ansible_inventory")
    with ThreadPoolExecutor(PARALLEL) as pool:
        runs = pool.map(lambda c: run_site(inventory, c, "--check"), TABLE["accepted"])
        return dict(zip((case["why"] for case in TABLE["accepted"]), runs, strict=True))


@pytest.mark.parametrize("case", TABLE["accepted"], ids=lambda case: case["why"])
def test_correct_but_unusual_input_goes_through(accepted_runs, case: dict) -> None:
    run = accepted_runs[case["why"]]
    assert run.returncode == 0, f"{case['why']} was refused: {run.output[-2000:]}"
    assert "TASK [celery_worker :" in run.output, "the check run did not reach the roles"


def test_a_port_another_program_holds_stops_the_run_before_any_container_changes(
    request, docker, stack
) -> None:
    """A check that needs the host: Docker would refuse the port only once the old container
    is gone, so the run looks before it replaces anything."""
    checked_once(stack, "host ports in use (the local engine)")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        before = containers(docker, stack)
        run = run_site(
            request.config.getoption("ansible_inventory"),
            {"vars": {"postgres_published_port": port}},
        )
    assert run.returncode == 2, run.output[-2000:]
    assert f"postgres_published_port: port {port} on 127.0.0.1 is in use" in run.output, run.output[
        -2000:
    ]
    assert containers(docker, stack) == before, "a container changed"


def test_example_prod_vault_opens_with_its_password_client_and_its_placeholders_are_refused(
    stack,
) -> None:
    """inventories/prod as shipped: the vault decrypts through vault-password.sh, and the
    first play refuses its example values by name before it contacts the server."""
    checked_once(stack, "the example prod inventory")
    command = [
        "ansible-playbook",
        "site.yml",
        "-i",
        "inventories/prod",
        "--vault-password-file",
        "inventories/prod/vault-password.sh",
    ]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "HOME": "/nonexistent"}
    env.pop("DJSTACK_VAULT_PASSWORD", None)
    locked = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    assert locked.returncode != 0
    assert "set DJSTACK_VAULT_PASSWORD" in locked.stderr, locked.stderr[-1500:]

    env["DJSTACK_VAULT_PASSWORD"] = "djstack-example-vault"
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for variable in ("djstack_secret_key", "djstack_postgres_password", "djstack_redis_password"):
        assert f"{variable} must have at least" in output, output[-2000:]
    assert "example-postgres-password" not in output, "a vaulted value was printed"
    assert "UNREACHABLE" not in output and "unreachable=0" in output, "the server was contacted"


def test_a_locked_debian_version_the_mirror_lacks_stops_the_build_naming_it(
    host, site_playbook, docker, stack, tmp_path
) -> None:
    """The Debian lock is enforced: a pin the mirror cannot satisfy fails the image build
    with the package, both versions and the way out, and the running stack is untouched."""
    checked_once(stack, "the Debian lock")
    lock = (ROOT / "roles/images/files/debian.lock").read_text()
    line = next(line for line in lock.splitlines() if line.startswith("redis redis-server "))
    version = line.split()[2]
    bad_lock = tmp_path / "debian.lock"
    bad_lock.write_text(lock.replace(line, "redis redis-server 0.0.1-0djstack"))
    names = [stack.container(service) for service in SERVICES]
    before = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", *names)

    result = site_playbook("-e", json.dumps({"images_debian_lock": str(bad_lock)}))
    output = result.stdout + result.stderr
    assert result.returncode != 0, "a lock the mirror cannot satisfy was accepted"
    assert "image redis: Debian packages differ from the lock file (images_debian_lock)" in output
    assert f"redis-server is locked at 0.0.1-0djstack, but the mirror gave {version}" in output
    assert "make lock" in output and "snapshot" in output, output[-1500:]
    assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", *names) == before

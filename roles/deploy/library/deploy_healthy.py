"""Waits until containers a deploy started are healthy by their own health checks, or have
stopped running, in one module call.

Docker runs a container's health check once per interval (3 s for worker and beat), the
first only one interval after the start, and Docker 20.10 (Debian 12's) has no
start_interval: a deploy waiting for Docker's verdict waited up to an interval longer than
the service needed. Here the container's own configured check runs (docker exec) every
`interval` seconds until it passes; Docker's verdict counts too once given.

    - name: Containers started by this deploy are healthy, or have stopped running
      deploy_healthy:
        containers: [app-worker, app-beat]
        timeout: 120

A container that is not running has crashed and ends its own wait at once; an unhealthy one
is waited for (a worker whose Redis the deploy replaced recovers by itself). Returns
`containers`, one entry each: name, status, exit_code, health and check (the last health
check's output).

Containers replaced in the background (an async docker_container task, poll 0) are `jobs`:
until a job's result file says it finished, its container's name may still be the old
container's, so every job is awaited first (within its own time limit), its file removed,
and a failed one fails the module with docker_container's message. A finished job's change
is this task's change. (async_status would do the same at one module run per look.)
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: deploy_healthy
short_description: Containers are healthy by their own health checks, or have stopped running
description:
  - Polls each container (docker inspect); runs its configured health check (docker exec)
    until it passes, Docker reports it healthy, it stops running or O(timeout) passes.
options:
  containers: {description: Names of the containers., type: list, elements: str, required: true}
  timeout: {description: Seconds to wait for all of them., type: int, required: true}
  interval: {description: Seconds between two checks of one container., type: float, default: 0.5}
  jobs:
    description: "Background jobs to await first: file (the job's results_file), seconds (its limit)."
    type: list
    elements: dict
    default: []
"""

RETURN = r"""
containers: {description: "Per container: name, status, exit_code, health, check.", type: list, returned: always}
"""


def check_command(name: str, test: list[str] | None) -> list[str] | None:
    """The docker exec that runs a container's configured health check; None when it has
    none (no Healthcheck, or NONE)."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["docker", "exec", name, "/bin/sh", "-c", test[1]]
    return ["docker", "exec", name, *test[1:]]


def run_check(name: str, healthcheck: dict) -> tuple[bool, str]:
    """Runs a container's configured check once, within its own timeout (Docker's default
    30 s); (whether it passed, its output)."""
    seconds = (healthcheck.get("Timeout") or 30 * 10**9) / 10**9
    try:
        done = subprocess.run(
            check_command(name, healthcheck["Test"]),
            capture_output=True,
            text=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"the check did not answer within {seconds:g} s"
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def job_result(text: str) -> dict | None:
    """A job's result from its results file, as async_status reads it: None while it runs
    (an empty or partly written file, or started and not finished)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or (data.get("started") and not data.get("finished")):
        return None
    return data


def await_jobs(jobs: list[dict], poll: float = 0.1) -> list[dict]:
    """Each job's result once finished, or a failure once its limit (and a few seconds for
    the wrapper to write it) has passed; every results file is removed."""
    start = time.monotonic()
    results: dict[str, dict] = {}
    while len(results) < len(jobs):
        for job in [j for j in jobs if j["file"] not in results]:
            try:
                with open(job["file"], encoding="utf-8") as handle:
                    found = job_result(handle.read())
            except FileNotFoundError:
                found = {"failed": True, "msg": f"no result file {job['file']}"}
            if found is None and time.monotonic() - start > float(job["seconds"]) + 5:
                found = {"failed": True, "msg": f"the job ran past its {job['seconds']} s"}
            if found is not None:
                results[job["file"]] = found
        if len(results) < len(jobs):
            time.sleep(poll)
    for job in jobs:
        try:
            os.unlink(job["file"])
        except FileNotFoundError:
            pass
    return [results[job["file"]] for job in jobs]


def verdict(container: dict | None) -> str:
    """What the inspect output alone says: missing, stopped, healthy, or waiting (a running
    container whose check has not passed yet)."""
    if container is None:
        return "missing"
    state = container.get("State") or {}
    if state.get("Status") != "running":
        return "stopped"
    health = state.get("Health")
    test = ((container.get("Config") or {}).get("Healthcheck") or {}).get("Test")
    if health is None or health.get("Status") == "healthy" or check_command("", test) is None:
        return "healthy"
    return "waiting"


def summary(name: str, container: dict | None, own_check: str | None, healthy: bool) -> dict:
    state = (container or {}).get("State") or {}
    logs = [entry.get("Output", "") for entry in (state.get("Health") or {}).get("Log") or []]
    status = state.get("Status", "missing")
    health = (state.get("Health") or {}).get("Status")
    return {
        "name": name,
        "status": status,
        "exit_code": state.get("ExitCode", "none"),
        "health": "healthy"
        if healthy
        else (health or ("healthy" if status == "running" else "none")),
        "check": own_check if own_check is not None else (logs or ["(no check has run)"])[-1],
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "containers": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "int", "required": True},
            "interval": {"type": "float", "default": 0.5},
            "jobs": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    names = list(dict.fromkeys(module.params["containers"]))
    if module.check_mode:
        module.exit_json(changed=False, containers=[])
    jobs = await_jobs(module.params["jobs"])
    failed = [job for job in jobs if job.get("failed")]
    if failed:
        module.fail_json(
            msg="A container replaced in the background was not started: "
            + "; ".join(str(job.get("msg", "no message")) for job in failed),
        )
    changed = any(job.get("changed") for job in jobs)
    if not names:
        module.exit_json(changed=changed, containers=[])
    deadline = time.monotonic() + module.params["timeout"]
    done: dict[str, dict] = {}
    last_output: dict[str, str] = {}
    inspected: dict[str, dict | None] = {}
    while True:
        for name in [n for n in names if n not in done]:
            rc, out, _ = module.run_command(["docker", "inspect", name])
            container = json.loads(out)[0] if rc == 0 else None
            inspected[name] = container
            state = verdict(container)
            if state == "waiting":
                passed, last_output[name] = run_check(name, container["Config"]["Healthcheck"])
                if passed:
                    state = "healthy"
            if state != "waiting":
                done[name] = summary(name, container, last_output.get(name), state == "healthy")
        if len(done) == len(names) or time.monotonic() > deadline:
            break
        time.sleep(module.params["interval"])
    results = [
        done.get(name) or summary(name, inspected.get(name), last_output.get(name), False)
        for name in names
    ]
    module.exit_json(changed=changed, containers=results)


if __name__ == "__main__":
    main()

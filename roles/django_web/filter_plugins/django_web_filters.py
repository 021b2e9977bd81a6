"""Filters of the django_web role, computed in Python."""

from __future__ import annotations

import re
from typing import Any

BUILTIN_READY = "/-/djstack/ready"
BUILTIN_ALIVE = "/-/djstack/alive"
# What each probe of a new web container is called, the variable of its path and djstack's
# own path for it, by whether it is the liveness (health) probe.
PROBES = {
    True: ("health", "liveness", "django_web_health_path", BUILTIN_ALIVE),
    False: ("readiness", "readiness", "django_web_ready_path", BUILTIN_READY),
}


def ready_hint(answer: str, path: str, liveness: bool = False) -> str:
    """What usually causes a probe's answer ("<status> <body>" or "no answer: ..."), of the
    readiness path or, with liveness, of the health path, naming the variable to look at; ""
    when there is nothing to add."""
    status = answer.split(" ", 1)[0]
    _, kind, variable, builtin = PROBES[liveness]
    _, _, other, other_builtin = PROBES[not liveness]
    if status == "400":
        return (
            "A 400 is Django refusing the probe's Host (127.0.0.1): add 127.0.0.1 to"
            " djstack_app_allowed_hosts, or probe djstack's own path, which skips the project"
            f" ({variable}: {builtin})."
        )
    if status == "404":
        return (
            f"The project has no {path}: set {variable} to its {kind} path, or to"
            f" djstack's own, {builtin} (and {other}: {other_builtin})."
        )
    if status == "503":
        return "The probe answered 503: its body above names the check that failed."
    if status == "500":
        return "The project raised an error answering the probe: its traceback is in the log below."
    if answer.startswith("no answer"):
        return "Nothing answered on the web port: the log below says why the server did not start."
    return ""


def probe_report(answer: str, rc: int, health_path: str, ready_path: str) -> str:
    """What a failed probe of a new web container said (rolling.yml's probe exits 1 when its
    health path never answered 200, 2 when its readiness path did not), with the hint."""
    liveness = rc != 2
    kind, _, variable, _ = PROBES[liveness]
    path = health_path if liveness else ready_path
    answer = answer.strip()
    report = f"Its {kind} probe (GET {path}, {variable})"
    if not answer:
        # Killed with its container (137), or the exec could not start in it.
        return f"{report} ended without an answer (exit code {rc}): the container stopped; its log below says why."
    shown = answer if len(answer) <= 400 else answer[:397] + "..."
    report += f" last answered: {shown}"
    hint = ready_hint(answer, path, liveness)
    return f"{report}\n{hint}" if hint else report


def write_hint(output: str, uid: Any) -> str:
    """When a release step failed to write a file ("Permission denied", "Read-only file
    system"), which path and which user, and what decides it; "" otherwise."""
    found = re.search(r"\[Errno (?:13|30)\] ([^:]+): '([^']+)'", output)
    if not found:
        return ""
    reason, path = found.groups()
    return (
        f"It could not write {path} as the app's user (uid {uid}): {reason}. The root filesystem"
        " is read-only; the app writes only to djstack_app_static_root, djstack_app_media_root,"
        " djstack_app_writable_paths and /tmp. Point the project's setting at one of them, or"
        " add the path to djstack_app_writable_paths."
    )


def release_command(check_project: bool, steps: list[str], backup_gate: bool) -> list[str]:
    """The app image's `release` command for this deploy: the project check when web's
    settings changed, then a new release's steps, stopping for a backup first when
    migrations wait (backup_gate); [] when there is nothing to run."""
    gate = ["--backup-gate"] if backup_gate and "migrate" in steps else []
    names = (["check-project"] if check_project else []) + gate + list(steps)
    return ["release", *names] if check_project or steps else []


def failed_step(output: str, default: str) -> str:
    """The step a `release` container names as failed in its output, else default."""
    found = re.findall(r"djstack-release: (\S+) failed$", output, flags=re.MULTILINE)
    return found[-1] if found else default


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "django_web_probe_report": probe_report,
            "django_web_write_hint": write_hint,
            "django_web_release_command": release_command,
            "django_web_failed_step": failed_step,
        }

"""Filters of the deploy role: what the roles declared, and what a health wait found."""

from __future__ import annotations

import json
from typing import Any

# What a role may declare for the unchanged-rerun check (roles/*/vars/main.yml, <role>_declared).
STATE_KEYS = ("host_files", "tables", "units", "expires")
# Files on the control node, hashed into the inputs' fingerprint.
CONTROL_KEYS = ("control_files", "release_files")


def declared(declarations: dict[str, dict]) -> dict[str, list]:
    """The union of every role's declarations on this host: host files, nftables tables,
    systemd units, certificates that expire ('file:seconds'), control-node files
    ({path, exclude}) and the control-node files a new release of the app alone follows from
    (release_files), each list without repeats, in a stable order."""
    merged: dict[str, list] = {key: [] for key in (*STATE_KEYS, *CONTROL_KEYS)}
    for _, declaration in sorted(declarations.items()):
        shared = declaration.get("shared") or {}
        for key, items in merged.items():
            for item in [*(declaration.get(key) or []), *(shared.get(key) or [])]:
                if item and item not in items:
                    items.append(item)
    for key in STATE_KEYS:
        merged[key] = sorted(str(item) for item in merged[key])
    for key in CONTROL_KEYS:
        merged[key] = sorted(
            (
                {"path": str(item["path"]), "exclude": [str(e) for e in item.get("exclude") or []]}
                if isinstance(item, dict)
                else {"path": str(item), "exclude": []}
                for item in merged[key]
            ),
            key=lambda item: item["path"],
        )
    return merged


def status_inputs(declarations: dict[str, dict], label: str) -> dict:
    """What stack-status.py needs on this host, from what each role declared under `status`
    (the release log, the readiness probe through Nginx, the backup schedule)."""
    inputs: dict = {"label": label}
    for _, declaration in sorted(declarations.items()):
        inputs.update({k: v for k, v in (declaration.get("status") or {}).items() if v})
    return inputs


def _size(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "-"


def status_table(hosts: dict[str, dict]) -> list[str]:
    """One line per container of the stack, every host, aligned; then per host the
    readiness answer, the last deploy and the next backup."""
    rows = [
        [
            "SERVICE",
            "HOST",
            "CONTAINER",
            "RELEASE",
            "STATE",
            "UP SINCE",
            "RESTARTS",
            "MEMORY",
            "CPU",
            "PORTS",
        ]
    ]
    notes = []
    for host, status in sorted(hosts.items()):
        for c in status.get("containers", []):
            memory = _size(c.get("memory"))
            if c.get("memory_limit"):
                memory += f" / {_size(c['memory_limit'])}"
            cpu = "-" if c.get("cpu_percent") is None else f"{c['cpu_percent']}%"
            if c.get("cpu_limit"):
                cpu += f" / {c['cpu_limit']:g}"
            state = c["state"] + (f" ({c['health']})" if c.get("health") else "")
            rows.append([c["service"], host, c["name"], c["image"].rpartition(":")[2][:16], state,
                         (c.get("since") or "")[:19], str(c.get("restarts", 0)), memory, cpu,
                         ", ".join(c.get("ports") or []) or "-"])  # fmt: skip
        if status.get("ready"):
            notes.append(
                f"{host}: readiness through Nginx: {status['ready'].get('status')} {status['ready'].get('body', '').strip()[:200]}"
            )
        deploys = [
            e for e in status.get("releases", []) if e.get("action") in ("deploy", "rollback")
        ]
        if deploys:
            last = deploys[-1]
            notes.append(
                f"{host}: last {last['action']} {last.get('time')}: release {last.get('release')} (revision {last.get('revision')}) by {last.get('by')}"
            )
        if status.get("next_backup"):
            notes.append(f"{host}: next backup {status['next_backup']}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ] + notes


def unhealthy(hosts: dict[str, dict]) -> list[str]:
    """What makes `make status` exit non-zero: a container not running, or not healthy, and
    a readiness answer other than 200."""
    problems = []
    for host, status in sorted(hosts.items()):
        for c in status.get("containers", []):
            if c["service"] in ("release", "backup"):
                continue
            if c["state"] != "running" or c.get("health") not in ("", "healthy"):
                problems.append(
                    f"{c['service']} ({c['name']} on {host}) is {c['state']} {c.get('health') or ''}".strip()
                )
        if status.get("ready") and status["ready"].get("status") != 200:
            problems.append(
                f"readiness through Nginx on {host} answered {status['ready'].get('status')}"
            )
    return problems


def running(containers: list[dict], service: str) -> list[dict]:
    """The running containers of one service (docker_host_info's verbose list)."""
    return [
        c
        for c in containers
        if (c.get("Labels") or {}).get("io.djstack.service") == service
        and c.get("State") == "running"
    ]


def target(hostvars: dict, groups: dict, stack: dict) -> dict:
    """How the control node reaches one host (its connection variables) and what runs there
    (the stack's containers, the serving web container's settings), for djstack-ops.py."""
    web = (hostvars.get("deploy_targets_web") or {}).get("container") or {}
    host = hostvars.get("inventory_hostname")
    return {
        "connection": hostvars.get("ansible_connection", "ssh"),
        "address": hostvars.get("ansible_host", host),
        "port": hostvars.get("ansible_port"),
        "user": hostvars.get("ansible_user"),
        "key": hostvars.get("ansible_ssh_private_key_file")
        or hostvars.get("ansible_private_key_file"),
        "ssh_args": " ".join(
            str(hostvars.get(name) or "")
            for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
        ).strip(),
        "become": bool(hostvars.get("ansible_become", False)),
        "groups": sorted(g for g, members in groups.items() if host in members and g != "all"),
        # The stack's name and database, as the play resolved them (role defaults included).
        **stack,
        "containers": [
            {
                "name": c["Names"][0].lstrip("/"),
                "service": c.get("Labels", {}).get("io.djstack.service", ""),
                "state": c.get("State"),
            }
            for c in (hostvars.get("deploy_targets_found") or {}).get("containers", [])
        ],
        "web": {
            "image": web.get("Config", {}).get("Image"),
            "env": web.get("Config", {}).get("Env", []),
            "user": web.get("Config", {}).get("User"),
            "mounts": web.get("HostConfig", {}).get("Mounts") or [],
            "network": web.get("HostConfig", {}).get("NetworkMode"),
            "memory": web.get("HostConfig", {}).get("Memory"),
            "nano_cpus": web.get("HostConfig", {}).get("NanoCpus"),
            "pids_limit": web.get("HostConfig", {}).get("PidsLimit"),
            "read_only": web.get("HostConfig", {}).get("ReadonlyRootfs"),
            "tmpfs": web.get("HostConfig", {}).get("Tmpfs") or {},
            "security_opt": web.get("HostConfig", {}).get("SecurityOpt") or [],
            "cap_drop": web.get("HostConfig", {}).get("CapDrop") or [],
        }
        if web
        else None,
    }


def _short(value: object, width: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def plan_lines(host: str, images: list[str], containers: list[dict], steps: list[str]) -> list[str]:
    """What a deploy would do on one host, from a check run: the images it would build, each
    container it would create or replace and the settings that differ, the release steps."""
    lines = [f"{host}: would build image {image}" for image in images]
    for planned in containers:
        why = planned.get("why")
        if isinstance(why, str):
            lines.append(f"{host}: would start {planned['container']}: {why}")
            continue
        before, after = (why or {}).get("before") or {}, (why or {}).get("after") or {}
        if not before and not after:
            lines.append(f"{host}: would create or start {planned['container']}")
            continue
        for key in sorted(set(before) | set(after)):
            lines.append(
                f"{host}: would change {planned['container']}: {key} {_short(before.get(key))}"
                f" -> {_short(after.get(key))}"
            )
    lines += [f"{host}: would run the release step {step}" for step in steps]
    return lines


def own(declarations: dict[str, dict]) -> dict[str, list]:
    """What belongs to this stack alone on the host (not what the host's stacks share): the
    host files and units make destroy removes, and the data it removes with PURGE=1."""
    merged: dict[str, list] = {"host_files": [], "units": [], "data": []}
    for _, declaration in sorted(declarations.items()):
        for key, items in merged.items():
            items.extend(str(i) for i in declaration.get(key) or [] if i and str(i) not in items)
    return merged


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "deploy_declared": declared,
            "deploy_status_inputs": status_inputs,
            "deploy_target": target,
            "deploy_running": running,
            "deploy_plan_lines": plan_lines,
            "deploy_own": own,
            "deploy_status_table": status_table,
            "deploy_unhealthy": unhealthy,
        }

"""Filters of the deploy role: what the roles declared, and what a health wait found."""

from __future__ import annotations

from typing import Any

# What a role may declare for the unchanged-rerun check (roles/*/vars/main.yml, <role>_declared).
STATE_KEYS = ("host_files", "tables", "units", "expires")


def declared(declarations: dict[str, dict]) -> dict[str, list]:
    """The union of every role's declarations on this host: host files, nftables tables,
    systemd units, certificates that expire ('file:seconds') and control-node files
    ({path, exclude}), each list without repeats, in a stable order."""
    merged: dict[str, list] = {key: [] for key in (*STATE_KEYS, "control_files")}
    for _, declaration in sorted(declarations.items()):
        for key, items in merged.items():
            for item in declaration.get(key) or []:
                if item and item not in items:
                    items.append(item)
    for key in STATE_KEYS:
        merged[key] = sorted(str(item) for item in merged[key])
    merged["control_files"] = sorted(
        (
            {"path": str(item["path"]), "exclude": [str(e) for e in item.get("exclude") or []]}
            if isinstance(item, dict)
            else {"path": str(item), "exclude": []}
            for item in merged["control_files"]
        ),
        key=lambda item: item["path"],
    )
    return merged


def state_arguments(state: dict[str, list]) -> list[str]:
    """Arguments of stack-state.sh after the label, from declared()."""
    arguments: list[str] = []
    for option, key in (("--expires", "expires"), ("--table", "tables"), ("--unit", "units")):
        for item in state.get(key) or []:
            arguments += [option, item]
    return arguments + list(state.get("host_files") or [])


def health_summary(results: list[dict]) -> list[dict]:
    """One line of facts per container of a health wait (docker_container_info results):
    name, state, last exit code, health and the last health check's output."""
    summary = []
    for result in results:
        state = (result.get("container") or {}).get("State") or {}
        checks = [entry.get("Output", "") for entry in (state.get("Health") or {}).get("Log") or []]
        status = state.get("Status", "missing")
        health = (state.get("Health") or {}).get("Status")
        summary.append(
            {
                "name": result.get("deploy_started_container", "?"),
                "status": status,
                "exit_code": state.get("ExitCode", "none"),
                "health": health or ("healthy" if status == "running" else "none"),
                "check": (checks or ["(no check has run)"])[-1],
            }
        )
    return summary


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "deploy_declared": declared,
            "deploy_state_arguments": state_arguments,
            "deploy_health_summary": health_summary,
        }

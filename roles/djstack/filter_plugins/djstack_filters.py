"""Filters of the djstack role: what the shared contract derives, computed in Python."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import quote

# Addresses that listen on every interface, so they clash with any other on the same port.
WILDCARDS = {"", "0.0.0.0", "::", "*"}


def url_password(password: Any) -> str:
    """A password as it goes into a URL: every reserved character percent-encoded, '/' too."""
    return quote(str(password), safe="")


def redis_urls(dbs: dict[str, Any], host: str, port: Any, user: str, password: Any) -> dict:
    """Redis URLs of the app's ACL user for each use (broker, cache, results): without the
    password, and as <use>_secret with it."""
    urls = {}
    for use, db in dbs.items():
        base = f"{host}:{port}/{db}"
        urls[use] = f"redis://{user}@{base}"
        urls[f"{use}_secret"] = f"redis://{user}:{url_password(password)}@{base}"
    return urls


def app_env(
    facts: dict[str, Any], names: dict[str, str], entry_env: dict[str, Any], extra_env: dict
) -> dict[str, str]:
    """Environment of the app containers: the entry points' variables that have a value,
    each fact under the name the project reads it from (an empty name leaves it out), then
    the project's extra environment, which wins."""
    env = {name: str(value) for name, value in entry_env.items() if value not in ("", None)}
    for fact, name in names.items():
        if name:
            env[name] = str(facts[fact])
    env.update({name: str(value) for name, value in extra_env.items()})
    return env


def secret_problem(value: Any, min_length: int, placeholder_pattern: str) -> str:
    """What is wrong with a production secret ('' when nothing is): too short, or holding a
    placeholder word. The message never contains the value."""
    text = str(value)
    if len(text) >= int(min_length) and not re.search(placeholder_pattern, text, re.IGNORECASE):
        return ""
    return (
        f"must have at least {min_length} characters and must not be a placeholder (matching"
        f" '{placeholder_pattern}'); put a generated value in the inventory's ansible-vault file."
    )


def _address(value: Any) -> str:
    text = str(value or "").strip("[]")
    if text in WILDCARDS:
        return "*"
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def published_conflicts(declarations: dict[str, dict]) -> list[str]:
    """One message per pair of services that would publish the same host port on one
    address (a wildcard address clashes with every address), from the roles' declarations
    ({role: {'published': [{'variable', 'address', 'port'}]}}). Port 0 publishes nothing."""
    seen: list[tuple[str, int, str]] = []
    problems = []
    for role in sorted(declarations):
        for entry in declarations[role].get("published") or []:
            port = int(entry["port"])
            if port == 0:
                continue
            address = _address(entry.get("address"))
            for other_address, other_port, other in seen:
                if port == other_port and (
                    address == other_address or "*" in (address, other_address)
                ):
                    problems.append(
                        f"{entry['variable']} and {other} both publish port {port}"
                        f" on {entry.get('address') or '*'}: give one of them another port."
                    )
            seen.append((address, port, entry["variable"]))
    return problems


def unheld_ports(declarations: dict[str, dict], containers: list[dict]) -> list[dict]:
    """The declared published ports ({variable, address, port}, port 0 left out) that no
    container of the stack publishes now (docker_host_info's containers): those must be free
    on the host before a deploy replaces anything."""
    held = {
        (_address(port.get("IP")), int(port["PublicPort"]))
        for container in containers
        for port in container.get("Ports") or []
        if port.get("PublicPort")
    }
    wanted = []
    for role in sorted(declarations):
        for entry in declarations[role].get("published") or []:
            port = int(entry["port"])
            if port and (_address(entry.get("address")), port) not in held:
                wanted.append({**entry, "port": port, "address": entry.get("address") or "0.0.0.0"})
    return wanted


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "djstack_url_password": url_password,
            "djstack_redis_urls": redis_urls,
            "djstack_app_env": app_env,
            "djstack_published_conflicts": published_conflicts,
            "djstack_secret_problem": secret_problem,
            "djstack_unheld_ports": unheld_ports,
        }

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


# Names that say a variable holds a secret, and URLs that carry a password.
SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE
)
PLAIN = re.compile(r"^(/run/secrets/.*|-?[0-9.]+|true|false|yes|no|on|off)$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", re.IGNORECASE)


def env_secrets(env: dict[str, Any], secret_values: list[Any]) -> list[str]:
    """Names of the variables of env (a container's configuration, visible in `docker
    inspect`) that hold a secret: one of the stack's secret values, a URL with a password in
    it, or a value under a name that says secret (a path under /run/secrets, a number and a
    boolean excepted: PASSWORD_RESET_TIMEOUT is no secret). The values are never returned."""
    known = [str(value) for value in secret_values if len(str(value)) >= 8]
    found = []
    for name, raw in env.items():
        value = str(raw)
        if not value:
            continue
        if (
            any(secret in value for secret in known)
            or URL_PASSWORD.match(value)
            or (SECRET_NAME.search(name) and not PLAIN.match(value))
        ):
            found.append(name)
    return sorted(found)


def secret_env_names(secret_env: dict[str, str]) -> str:
    """DJSTACK_SECRET_ENV: NAME=file pairs, space-separated, for the image's entry point
    (names only: the values stay in the files)."""
    return " ".join(f"{name}={file}" for name, file in secret_env.items())


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def app_volumes(
    stack: str, media_root: str, media_volume: str, writable: list[dict]
) -> list[dict[str, str]]:
    """Named volumes the app containers write to, besides the static files: the uploads
    (when the project has a media_root) and each writable path of kind volume, as
    {name, path}. A writable path's volume is <stack>-files-<its path, slugged>."""
    volumes = [{"name": media_volume, "path": media_root}] if media_root else []
    volumes += [
        {"name": f"{stack}-files-{_slug(item['path'])}", "path": item["path"]}
        for item in writable
        if item.get("kind", "volume") == "volume"
    ]
    return volumes


def volume_mount(volume: dict[str, str]) -> dict[str, Any]:
    """docker_container's mount of a named volume ({name, path}), writable."""
    return {"type": "volume", "source": volume["name"], "target": volume["path"]}


def app_tmpfs(writable: list[dict], uid: Any) -> list[str]:
    """tmpfs mounts (docker_container's path:options) of the writable paths of kind tmpfs,
    owned by the app's user."""
    return [
        f"{item['path']}:rw,nosuid,nodev,uid={uid},gid={uid},mode=0700,size={item.get('size') or '64m'}"
        for item in writable
        if item.get("kind", "volume") == "tmpfs"
    ]


# Directories of the app image that a volume must not replace.
RESERVED_PATHS = {"/app", "/opt/venv", "/tmp", "/etc", "/usr", "/var", "/run", "/run/secrets"}


def path_problems(static_root: str, media_root: str, writable: list[dict]) -> list[str]:
    """One message per path the app writes to (the static and media roots, the writable
    paths) that is not absolute, is the root, lies under /run/secrets, or lies inside or
    over another of them."""
    named = [("djstack_app_static_root", static_root), ("djstack_app_media_root", media_root)]
    named += [(f"djstack_app_writable_paths '{item['path']}'", item["path"]) for item in writable]
    items = [(name, str(path).rstrip("/") or "/") for name, path in named if path]
    problems = []
    for name, path in items:
        if not path.startswith("/") or path == "/" or ".." in path.split("/"):
            problems.append(f"{name} must be an absolute path below /, got '{path}'.")
        elif path in RESERVED_PATHS or path.startswith("/run/secrets/"):
            problems.append(
                f"{name} may not be {', '.join(sorted(RESERVED_PATHS))} or under /run/secrets,"
                f" got '{path}': a volume there would hide what the image keeps in it."
            )
    for index, (name, path) in enumerate(items):
        for other, other_path in items[index + 1 :]:
            if (
                path == other_path
                or f"{path}/".startswith(f"{other_path}/")
                or f"{other_path}/".startswith(f"{path}/")
            ):
                problems.append(
                    f"{name} ('{path}') and {other} ('{other_path}') overlap: give each a directory of its own."
                )
    return problems


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
            "djstack_env_secrets": env_secrets,
            "djstack_secret_env_names": secret_env_names,
            "djstack_app_volumes": app_volumes,
            "djstack_app_tmpfs": app_tmpfs,
            "djstack_volume_mount": volume_mount,
            "djstack_path_problems": path_problems,
        }

#!/usr/bin/python3
"""Prints, as one JSON document, the state of one djstack stack on this host: each container
(service, release, state and health, up since, restarts, memory and CPU use against its
limit, published ports), the last releases of the release log, the next scheduled backup,
and the readiness answer through Nginx when this host runs it. `make status` runs it once
per host (roles/deploy/tasks/status.yml) and prints one table for the whole stack.

Usage: stack-status.py '<json>' with label, release_log, backup_unit, backup_cron, probe_url,
ready_path (the roles' declarations, merged).
"""

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout


def cgroup_dirs(container_id: str, pid: int) -> dict[str, Path]:
    """The container's memory and CPU accounting directories, cgroup v1 or v2."""
    if (CGROUP / "memory" / "docker" / container_id).is_dir():
        return {
            "memory": CGROUP / "memory" / "docker" / container_id,
            "cpu": CGROUP / "cpuacct" / "docker" / container_id,
            "v": 1,
        }
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines() if pid else []:
        if line.startswith("0::"):
            path = CGROUP / line[3:].lstrip("/")
            return {"memory": path, "cpu": path, "v": 2}
    return {}


def memory_used(dirs: dict) -> int | None:
    """Bytes in use the way `docker stats` counts them: usage less inactive file cache."""
    try:
        if dirs.get("v") == 1:
            usage = int((dirs["memory"] / "memory.usage_in_bytes").read_text())
            stat_name = "total_inactive_file"
        else:
            usage = int((dirs["memory"] / "memory.current").read_text())
            stat_name = "inactive_file"
        stats = dict(
            line.split() for line in (dirs["memory"] / "memory.stat").read_text().splitlines()
        )
        return usage - int(stats.get(stat_name, 0))
    except (KeyError, OSError, ValueError):
        return None


def cpu_seconds(dirs: dict) -> float | None:
    try:
        if dirs.get("v") == 1:
            return int((dirs["cpu"] / "cpuacct.usage").read_text()) / 1e9
        stats = dict(line.split() for line in (dirs["cpu"] / "cpu.stat").read_text().splitlines())
        return int(stats["usage_usec"]) / 1e6
    except (KeyError, OSError, ValueError):
        return None


def containers(label: str) -> list[dict]:
    ids = run(
        "docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", f"label={label}"
    ).split()
    found = json.loads(run("docker", "inspect", *ids)) if ids else []
    dirs = {c["Id"]: cgroup_dirs(c["Id"], c["State"].get("Pid") or 0) for c in found}
    before, started = {i: cpu_seconds(d) for i, d in dirs.items()}, time.monotonic()
    time.sleep(0.5)
    elapsed = time.monotonic() - started
    rows = []
    for c in found:
        labels = c["Config"].get("Labels") or {}
        after = cpu_seconds(dirs[c["Id"]])
        cpu = None
        if before[c["Id"]] is not None and after is not None:
            cpu = round((after - before[c["Id"]]) / elapsed * 100, 1)
        ports = sorted(
            f"{b['HostIp'] or '*'}:{b['HostPort']}->{port}"
            for port, bindings in (c["NetworkSettings"].get("Ports") or {}).items()
            for b in bindings or []
        )
        rows.append(
            {
                "name": c["Name"].lstrip("/"),
                "service": labels.get("io.djstack.service", ""),
                "image": c["Config"]["Image"],
                "state": c["State"]["Status"],
                "health": (c["State"].get("Health") or {}).get("Status", ""),
                "since": c["State"].get("StartedAt", ""),
                "restarts": c.get("RestartCount", 0),
                "memory": memory_used(dirs[c["Id"]]) if c["State"]["Status"] == "running" else None,
                "memory_limit": c["HostConfig"].get("Memory") or None,
                "cpu_percent": cpu,
                "cpu_limit": (c["HostConfig"].get("NanoCpus") or 0) / 1e9 or None,
                "ports": ports,
            }
        )
    return sorted(rows, key=lambda row: row["name"])


def releases(path: str, count: int = 3) -> list[dict]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    entries = [json.loads(line) for line in lines if line.strip()]
    return entries[-count:]


def next_backup(unit: str, cron: str) -> str:
    if unit and Path("/run/systemd/system").is_dir():
        value = run(
            "systemctl", "show", f"{unit}.timer", "--property=NextElapseUSecRealtime", "--value"
        )
        if value.strip():
            return value.strip()
    if cron and Path(cron).is_file():
        for line in Path(cron).read_text().splitlines():
            if line and not line.startswith("#") and "backup" in line:
                return "cron: " + " ".join(line.split()[:5]) + " UTC"
    return ""


def readiness(url: str, path: str, name: str) -> dict:
    if not url:
        return {}
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url.rstrip("/") + path, headers={"Host": name or "127.0.0.1"})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return {
                "status": response.status,
                "body": response.read(300).decode("utf-8", "replace"),
            }
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": error.read(300).decode("utf-8", "replace")}
    except OSError as error:
        return {"status": 0, "body": str(error)}


def main() -> int:
    args = json.loads(sys.argv[1])
    status = {
        "host": os.uname().nodename,
        "containers": containers(args["label"]),
        "releases": releases(args.get("release_log", "")),
        "next_backup": next_backup(args.get("backup_unit", ""), args.get("backup_cron", "")),
        "ready": readiness(
            args.get("probe_url", ""), args.get("ready_path", "/"), args.get("probe_host", "")
        ),
    }
    print(json.dumps(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())

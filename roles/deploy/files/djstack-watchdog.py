#!/usr/bin/python3
"""Brings back the containers of one djstack stack that stopped between deploys.

Docker restarts a container whose process crashes, but not one stopped or killed through the
engine (`docker stop`, `docker kill`, an operator's mistake): it stays down until the next
deploy. This watchdog starts such a container again, and appends the event to the stack's
release log. It never acts while a deploy, rollback or restore holds the stack's lock, never
starts a one-shot container (release steps, backups), and leaves alone a container an
operator stopped on purpose (`make stop`, which leaves a file of its name in the held
directory). Installed by the deploy role as /usr/local/sbin/djstack-watchdog and run by a
systemd timer, or, on a host without systemd, as one process per stack (`loop`), which ends
when the stack's configuration is removed.

Usage: djstack-watchdog --config FILE once|loop
"""

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

# Services that run once and are removed: never started again.
ONE_SHOT = {"release", "backup"}


def stopped_containers(label: str) -> list[dict]:
    """The stack's containers that exited (not running, not restarting, not being created)."""
    listed = subprocess.run(
        ["docker", "ps", "--all", "--filter", f"label={label}", "--filter", "status=exited",
         "--format", "{{json .}}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]


def service_of(container: dict) -> str:
    labels = dict(
        item.split("=", 1) for item in container.get("Labels", "").split(",") if "=" in item
    )
    return labels.get("io.djstack.service", "")


def to_revive(containers: list[dict], held: set[str]) -> list[dict]:
    """Containers the watchdog starts again: not one-shot, not held by an operator."""
    return [c for c in containers if service_of(c) not in ONE_SHOT and c.get("Names") not in held]


def record(log: Path, container: dict, outcome: str) -> None:
    entry = {
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": "revived",
        "container": container.get("Names"),
        "service": service_of(container),
        "was": container.get("Status", ""),
        "outcome": outcome,
        "by": "djstack-watchdog",
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")


def once(config: dict) -> int:
    """One look at the stack: start what stopped. Returns how many it started."""
    if Path(config["lock_path"]).exists():
        return 0
    held_dir = Path(config["held_dir"])
    held = {path.name for path in held_dir.iterdir()} if held_dir.is_dir() else set()
    started = 0
    for container in to_revive(stopped_containers(config["label"]), held):
        result = subprocess.run(
            ["docker", "start", container["Names"]], capture_output=True, text=True, check=False
        )
        outcome = "started" if result.returncode == 0 else f"failed: {result.stderr.strip()[-300:]}"
        record(Path(config["release_log"]), container, outcome)
        started += result.returncode == 0
    return started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("action", choices=["once", "loop"])
    args = parser.parse_args()
    if args.action == "once":
        once(json.loads(args.config.read_text()))
        return 0
    while args.config.exists():
        try:
            config = json.loads(args.config.read_text())
            once(config)
        except (OSError, ValueError, subprocess.CalledProcessError) as error:
            print(f"djstack-watchdog: {error}", file=sys.stderr, flush=True)
            config = {"interval": 15}
        time.sleep(int(config.get("interval", 15)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

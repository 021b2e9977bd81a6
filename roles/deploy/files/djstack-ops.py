#!/usr/bin/env python3
"""The operators' verbs that need a terminal or a stream, for any inventory: a service's log
from whichever hosts run it, and one-off commands (manage.py, a shell, any command) in a
fresh container of the release web serves, with web's environment, secrets, network and
limits. Hosts are reached as Ansible reaches them: playbooks/targets.yml writes each host's
connection and the stack's containers there; this script then runs docker locally or over
SSH (with sudo when the host's Ansible connection becomes root), interactive when it runs in
a terminal. The exit status is the command's. No secret passes through it: the containers
read theirs from files.

Usage: djstack-ops.py -i INVENTORY [--ansible-arg=ARG]... logs SERVICE [--lines N] [--since T] [--follow]
       djstack-ops.py -i INVENTORY [--ansible-arg=ARG]... manage [--docker-arg=OPTION]... ARGS...
       djstack-ops.py -i INVENTORY [--ansible-arg=ARG]... run [--docker-arg=OPTION]... CMD...
       djstack-ops.py -i INVENTORY [--ansible-arg=ARG]... dbshell
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("web", "worker", "beat", "nginx", "postgres", "redis", "flower")


def targets(inventory: str, ansible_args: list[str]) -> dict[str, dict]:
    """Each host's connection and containers, as Ansible resolves them (vault included)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "targets.json"
        result = subprocess.run(
            ["ansible-playbook", str(ROOT / "playbooks" / "targets.yml"), "-i", inventory,
             "-e", json.dumps({"deploy_targets_file": str(out)}), *ansible_args],
            cwd=ROOT, capture_output=True, text=True, check=False,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        )  # fmt: skip
        if result.returncode != 0 or not out.exists():
            sys.exit(f"djstack: could not read the stack's hosts:\n{result.stdout[-3000:]}")
        return json.loads(out.read_text())


def remote(host: dict, argv: list[str], tty: bool = False) -> list[str]:
    """argv as it runs on the host: locally, or over SSH as Ansible connects."""
    if host["become"]:
        argv = ["sudo", "--non-interactive", "--", *argv]
    if host["connection"] == "local":
        return argv
    ssh = ["ssh", "-t" if tty else "-T", "-o", "BatchMode=yes"]
    if host.get("port"):
        ssh += ["-p", str(host["port"])]
    if host.get("key"):
        ssh += ["-i", str(host["key"])]
    if not host.get("host_key_checking", True):
        # As Ansible connects when its host_key_checking is off (Molecule's test servers).
        ssh += [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ]
    ssh += shlex.split(host.get("ssh_args") or "")
    destination = f"{host['user']}@{host['address']}" if host.get("user") else str(host["address"])
    return [*ssh, destination, "--", shlex.join(argv)]


def containers_of(hosts: dict[str, dict], service: str) -> list[tuple[str, dict, str]]:
    return [
        (name, host, container["name"])
        for name, host in sorted(hosts.items())
        for container in host["containers"]
        if container["service"] == service
    ]


def logs(hosts: dict[str, dict], args: argparse.Namespace) -> int:
    found = containers_of(hosts, args.service)
    if not found:
        sys.exit(f"djstack: no {args.service} container on any host of the stack")
    docker = ["docker", "logs", "--tail", str(args.lines)]
    docker += ["--since", args.since] if args.since else []
    docker += ["--follow"] if args.follow else []
    prefixed = len(found) > 1
    lock = threading.Lock()
    codes: list[int] = []

    def stream(host_name: str, host: dict, container: str) -> None:
        prefix = f"{host_name} {container} | " if prefixed else ""
        process = subprocess.Popen(
            remote(host, [*docker, container]), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace",
        )  # fmt: skip
        for line in process.stdout:
            with lock:
                sys.stdout.write(prefix + line)
                sys.stdout.flush()
        codes.append(process.wait())

    threads = [threading.Thread(target=stream, args=entry, daemon=True) for entry in found]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        return 130
    return max(codes or [0])


def one_off(hosts: dict[str, dict], command: list[str], extra: list[str] = ()) -> int:
    """command in a fresh container of the release web serves, on the first web host, removed
    when it ends, whatever ends it."""
    host = next(
        (h for _, h in sorted(hosts.items()) if "web" in h["groups"] and h.get("web")), None
    )
    if host is None:
        sys.exit("djstack: no running web container: deploy first")
    web = host["web"]
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    name = f"{host['stack']}-run-{secrets.token_hex(4)}"
    docker = ["docker", "run", "--rm", "--interactive", "--name", name]
    docker += ["--tty"] if tty else []
    docker += ["--label", f"io.djstack.stack={host['stack']}", "--label", "io.djstack.service=run"]
    docker += ["--network", web["network"], "--user", web["user"] or "0"]
    for variable in web["env"]:
        docker += ["--env", variable]
    for mount in web["mounts"]:
        spec = f"type={mount['Type']},source={mount['Source']},target={mount['Target']}"
        docker += ["--mount", spec + (",readonly" if mount.get("ReadOnly") else "")]
    if web.get("read_only"):
        docker += ["--read-only"]
    for path, options in (web.get("tmpfs") or {}).items():
        docker += ["--tmpfs", f"{path}:{options}" if options else path]
    for option in web.get("security_opt") or []:
        docker += ["--security-opt", option]
    for capability in web.get("cap_drop") or []:
        docker += ["--cap-drop", capability]
    if web.get("memory"):
        docker += ["--memory", str(web["memory"])]
    if web.get("nano_cpus"):
        docker += ["--cpus", str(web["nano_cpus"] / 1e9)]
    if web.get("pids_limit"):
        docker += ["--pids-limit", str(web["pids_limit"])]
    docker += [*extra, web["image"], *command]
    try:
        return subprocess.run(remote(host, docker, tty=tty), check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        subprocess.run(
            remote(host, ["docker", "rm", "--force", name]), capture_output=True, check=False
        )


def dbshell(hosts: dict[str, dict]) -> int:
    """psql in the PostgreSQL container, as the app's own role (over its local socket)."""
    found = containers_of(hosts, "postgres")
    if not found:
        sys.exit("djstack: no postgres container on any host of the stack")
    _, host, container = found[0]
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    database = host["database"]
    docker = ["docker", "exec", "--interactive", *(["--tty"] if tty else []), container]
    docker += ["psql", "--username", database["user"], database["name"]]
    try:
        return subprocess.run(remote(host, docker, tty=tty), check=False).returncode
    except KeyboardInterrupt:
        return 130


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-i", "--inventory", required=True)
    parser.add_argument(
        "--ansible-arg", action="append", default=[], help="passed to ansible-playbook"
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    log = verbs.add_parser("logs")
    log.add_argument("service", choices=SERVICES)
    log.add_argument("--lines", type=int, default=100)
    log.add_argument("--since", default="")
    log.add_argument("--follow", action="store_true")
    for verb in ("manage", "run"):
        one = verbs.add_parser(verb)
        one.add_argument(
            "--docker-arg",
            action="append",
            default=[],
            help="an option of docker run, as --docker-arg=--env=X=1",
        )
        one.add_argument("args", nargs=argparse.REMAINDER)
    verbs.add_parser("dbshell")
    args = parser.parse_args()
    hosts = targets(args.inventory, args.ansible_arg)
    if args.verb == "logs":
        return logs(hosts, args)
    if args.verb == "manage":
        return one_off(hosts, ["manage", *args.args], args.docker_arg)
    if args.verb == "run":
        return one_off(hosts, args.args, args.docker_arg)
    return dbshell(hosts)


if __name__ == "__main__":
    sys.exit(main())

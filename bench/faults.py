#!/usr/bin/env python3
"""Each fault the watchdog answers, under a light load: `docker kill` of PostgreSQL, Redis,
web, worker, beat and Nginx in turn, on a stack already running on this machine's engine,
while a client asks for a page that uses the database and the cache ten times a second.
For each kill: seconds until the service is healthy again and /readyz answers 200, and the
requests that failed meanwhile.

    python bench/faults.py --stack djstack-molecule --url https://127.0.0.1:18443 \
        --cafile /etc/djstack/djstack-molecule/tls/fullchain.pem

Only this machine's 127.0.0.1 is loaded. Prints a Markdown table; nothing is written.
"""

from __future__ import annotations

import argparse
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

SERVICES = ("postgres", "redis", "web", "worker", "beat", "nginx")


def containers(stack: str, service: str, *filters: str) -> list[str]:
    return subprocess.run(
        ["docker", "ps", "--filter", f"label=io.djstack.stack={stack}",
         "--filter", f"label=io.djstack.service={service}", *filters, "--format", "{{.Names}}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip


def container(stack: str, service: str) -> str:
    found = containers(stack, service)
    if len(found) != 1:
        raise SystemExit(f"expected one running {service} container of {stack}, found {found}")
    return found[0]


def status(url: str, context: ssl.SSLContext | None) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class Load(threading.Thread):
    """GET path ten times a second; counts answers that are not 200."""

    def __init__(self, url: str, context: ssl.SSLContext | None) -> None:
        super().__init__(daemon=True)
        self.url, self.context = url, context
        self.sent = self.failed = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            started = time.monotonic()
            self.sent += 1
            if status(self.url, self.context) != 200:
                self.failed += 1
            self.stopped.wait(max(0.0, 0.1 - (time.monotonic() - started)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--url", required=True, help="the site through Nginx, on 127.0.0.1")
    parser.add_argument("--cafile", default="")
    parser.add_argument("--path", default="/", help="the page the load asks for")
    args = parser.parse_args()
    if "//127.0.0.1" not in args.url:
        raise SystemExit("load goes to 127.0.0.1 only")
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
    rows = []
    for service in SERVICES:
        name = container(args.stack, service)
        load = Load(args.url + args.path, context)
        load.start()
        time.sleep(3)
        before = (load.sent, load.failed)
        subprocess.run(["docker", "kill", name], capture_output=True, check=True)
        killed = time.monotonic()
        time.sleep(1)
        while not (
            containers(args.stack, service, "--filter", "health=healthy")
            and status(args.url + "/readyz", context) == 200
        ):
            if time.monotonic() - killed > 120:
                break
            time.sleep(0.5)
        ready = time.monotonic() - killed
        time.sleep(3)
        load.stopped.set()
        load.join()
        rows.append((service, ready, load.sent - before[0], load.failed - before[1]))
        time.sleep(5)
    print("| killed | ready again (s) | requests during | failed |")
    print("| --- | --- | --- | --- |")
    for service, ready, sent, failed in rows:
        print(f"| {service} | {ready:.1f} | {sent} | {failed} |")


if __name__ == "__main__":
    main()

"""Shared fixtures: every test talks to the live stack on the Docker host through testinfra.

The tests read the stack's name, flavour and ports from the inventory, so any scenario
(local engine, remote server over SSH) runs them unchanged.
"""

import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

SERVICES = ("postgres", "redis", "web", "worker", "beat", "nginx")


@dataclass(frozen=True)
class Stack:
    name: str
    flavour: str
    http_port: int

    def container(self, service: str) -> str:
        return f"{self.name}-{service}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> dict:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def stack(host) -> Stack:
    variables = host.ansible.get_variables()
    flavour = variables.get("djstack_flavour", "dev")
    default_port = 8080 if flavour == "dev" else 80
    return Stack(
        name=variables.get("djstack_stack", "djstack"),
        flavour=flavour,
        http_port=int(variables.get("nginx_http_port", default_port)),
    )


@pytest.fixture(scope="module")
def docker(host) -> Callable[..., str]:
    """Run `docker ARGS...` on the Docker host and return its output; fail on non-zero."""

    def run(*args: str, check: bool = True) -> str:
        result = host.run("docker " + shlex.join(args))
        if check:
            output = (result.stdout + result.stderr).strip()[-1500:]
            assert result.rc == 0, f"docker {' '.join(args)} exited {result.rc}: {output}"
        return result.stdout

    return run


@pytest.fixture(scope="module")
def inspect(docker) -> Callable[[str], dict]:
    def run(container: str) -> dict:
        return json.loads(docker("inspect", container))[0]

    return run


@pytest.fixture(scope="module")
def django(docker, stack) -> Callable[[str], str]:
    """Run Python with Django set up inside the live web container; return its stdout."""

    def run(code: str) -> str:
        prelude = "import django; django.setup()\n"
        return docker("exec", stack.container("web"), "python3", "-c", prelude + code)

    return run


@pytest.fixture(scope="module")
def http(host, stack) -> Callable[..., Response]:
    """GET a path through Nginx's published port, from the Docker host itself."""
    script = (
        "import json, sys, urllib.request, urllib.error\n"
        "try:\n"
        "    r = urllib.request.urlopen(sys.argv[1], timeout=10)\n"
        "except urllib.error.HTTPError as e:\n"
        "    r = e\n"
        "print(json.dumps({'status': r.status, 'headers': dict(r.headers.items()),"
        " 'body': r.read().decode('utf-8', 'replace')}))\n"
    )

    def get(path: str) -> Response:
        url = f"http://127.0.0.1:{stack.http_port}{path}"
        result = host.run(f"python3 -c {shlex.quote(script)} {shlex.quote(url)}")
        assert result.rc == 0, f"GET {url} failed to connect: {result.stderr.strip()}"
        return Response(**json.loads(result.stdout))

    return get


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")

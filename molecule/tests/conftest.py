"""Shared fixtures: every test talks to the live stack on the Docker host through testinfra.

The tests read the stack's name, flavour and ports from the inventory, so any scenario
(local engine, remote server over SSH) runs them unchanged.
"""

import base64
import hashlib
import json
import os
import shlex
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVICES = ("postgres", "redis", "web", "worker", "beat", "nginx")
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stack:
    name: str
    flavour: str
    http_port: int
    https_port: int
    tls: bool
    local: bool = True
    host: object = None

    def container(self, service: str) -> str:
        """Container name of a service. Web containers carry a digest of their settings
        (a new one starts beside the old on each change), so web's is looked up by label."""
        if service != "web" or self.host is None:
            return f"{self.name}-{service}"
        names = self.host.check_output(
            "docker ps --filter label=io.djstack.stack=%s --filter label=io.djstack.service=web "
            "--format '{{.Names}}'",
            self.name,
        ).split()
        assert len(names) == 1, f"expected one running web container, found {names}"
        return names[0]


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
    dev = flavour == "dev"
    tls_mode = variables.get("nginx_tls_mode", "none" if dev else "selfsigned")
    return Stack(
        name=variables.get("djstack_stack", "djstack"),
        flavour=flavour,
        http_port=int(variables.get("nginx_http_port", 8080 if dev else 80)),
        https_port=int(variables.get("nginx_https_port", 8443 if dev else 443)),
        tls=tls_mode != "none",
        local=variables.get("ansible_connection") == "local",
        host=host,
    )


def secret_values(host, stack: Stack) -> list[str]:
    """Every secret file's value on the Docker host, to look for in outputs."""
    directory = f"/etc/djstack/{stack.name}/secrets"
    files = host.check_output(f"find {directory} -type f").split()
    return [host.file(path).content_string.strip() for path in files]


def checked_once(stack: Stack, what: str, *, remote: bool = False) -> None:
    """Skip a check of the roles' own logic everywhere but the one prod scenario that runs
    it: the other scenarios run the same roles, and these checks are the slow ones. Most
    run on the local engine; a check that does not depend on the target and needs nothing
    of the control node's but SSH (remote=True) runs on the remote server instead, so that
    the suite's two lanes (molecule/test-all) take about as long as each other."""
    if stack.flavour != "prod" or stack.local == remote:
        where = "the remote server" if remote else "the local engine"
        pytest.skip(f"{what}: checked once, on {where} of the prod scenario")


# What `docker exec` says when runc failed to start the exec'd process ("read init-p:
# connection reset by peer"), before anything ran in the container.
RUNC_EXEC_FAILED = "OCI runtime exec failed: exec failed: unable to start container process"


@pytest.fixture(scope="module")
def docker(host) -> Callable[..., str]:
    """Run `docker ARGS...` on the Docker host and return its output; fail on non-zero."""

    def run(*args: str, check: bool = True) -> str:
        result = host.run("docker " + shlex.join(args))
        if (
            args[0] == "exec"
            and result.rc == 126
            and RUNC_EXEC_FAILED in result.stdout + result.stderr
        ):
            # runc could not start the process in the container, so nothing ran there: seen
            # once in CI, on the remote server's nested engine, between checks that reached
            # the same container. Asked again once, a second later; a process that cannot
            # start (no such file, no permission) fails the same way twice.
            time.sleep(1)
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


HTTP_GET = """
import json, ssl, sys, urllib.request, urllib.error

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

url, cafile, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
context = ssl.create_default_context(cafile=cafile) if cafile else None
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
try:
    r = opener.open(urllib.request.Request(url, headers=headers), timeout=10)
except urllib.error.HTTPError as e:
    r = e
body = r.read()
print(json.dumps({"status": r.status, "headers": dict(r.headers.items()),
                  "body": body.decode("utf-8", "replace")}))
"""


@pytest.fixture(scope="module")
def http(host, stack) -> Callable[..., Response]:
    """GET a path through Nginx's published port, from the Docker host itself, without
    following redirects. Over HTTPS the stack's own certificate is the only trusted one,
    so the check also proves the certificate is valid for 127.0.0.1."""
    cafile = f"/etc/djstack/{stack.name}/tls/fullchain.pem" if stack.tls else ""

    def get(path: str, scheme: str = "", headers: dict[str, str] | None = None) -> Response:
        scheme = scheme or ("https" if stack.tls else "http")
        port = stack.https_port if scheme == "https" else stack.http_port
        url = f"{scheme}://127.0.0.1:{port}{path}"
        args = [HTTP_GET, url, cafile if scheme == "https" else "", json.dumps(headers or {})]
        result = host.run("python3 -c " + " ".join(shlex.quote(a) for a in args))
        assert result.rc == 0, f"GET {url} failed: {result.stderr.strip()[-1500:]}"
        return Response(**json.loads(result.stdout))

    return get


@pytest.fixture(scope="module")
def local_cafile(host, stack, tmp_path_factory) -> str:
    """The stack's certificate, copied from the Docker host, for clients on the control node
    (the Docker host may be a remote server)."""
    if not stack.tls:
        return ""
    path = tmp_path_factory.mktemp("tls") / "fullchain.pem"
    path.write_bytes(host.file(f"/etc/djstack/{stack.name}/tls/fullchain.pem").content)
    return str(path)


@pytest.fixture(scope="module")
def playbook(request) -> Callable[..., subprocess.CompletedProcess]:
    """Run `ansible-playbook PATH` (relative to the repository) against the scenario's
    inventory with extra args."""
    inventory = request.config.getoption("ansible_inventory")
    if not inventory:
        pytest.skip("needs the scenario's inventory (--ansible-inventory, as molecule passes)")

    def run(path: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ansible-playbook", path, "-i", inventory, *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        )

    return run


@pytest.fixture(scope="module")
def site_playbook(playbook) -> Callable[..., subprocess.CompletedProcess]:
    """Run `ansible-playbook site.yml` against the scenario's inventory with extra args."""
    return lambda *extra: playbook("site.yml", *extra)


def ok(result: subprocess.CompletedProcess) -> str:
    """The output of a run that must have succeeded; its tail is the failure message."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def health(docker, name: str) -> str:
    """A container's health status as Docker reports it (healthy, unhealthy, starting)."""
    return docker("inspect", "--format", "{{.State.Health.Status}}", name).strip()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def held(host, docker, stack: Stack, service: str) -> Iterator[str]:
    """Stop a service as an operator does on purpose (`make stop`): a file of its name in the
    stack's held directory, so the watchdog leaves it down. It starts again on exit."""
    name = stack.container(service)
    held_dir = f"/var/lib/djstack/{stack.name}/held"
    host.run_test(f"mkdir -p {held_dir} && touch {held_dir}/{name}")
    docker("stop", name)
    try:
        yield name
    finally:
        host.run(f"rm -f {held_dir}/{name}")
        docker("start", name)
        # Healthy, not merely started: the next check must not meet its clients still
        # failing to reach it.
        wait_for(lambda: health(docker, name) == "healthy", 60, f"{name} healthy again")


@contextmanager
def websocket(port: int, path: str, cafile: str) -> Iterator[ssl.SSLSocket]:
    """A WebSocket opened over TLS to 127.0.0.1:port, trusting only cafile; the handshake's
    accept key is checked. Speak to it with ws_send and ws_receive."""
    context = ssl.create_default_context(cafile=cafile)
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    accept = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(handshake.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = tls.recv(1)
            assert chunk, f"connection closed during the handshake: {head!r}"
            head += chunk
        status, *lines = head.decode().strip().split("\r\n")
        assert status.startswith("HTTP/1.1 101"), head
        headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
        assert headers.get("sec-websocket-accept") == accept, headers
        yield tls


def ws_send(connection: ssl.SSLSocket, text: str) -> None:
    """One masked text frame (a client must mask), of under 126 bytes."""
    payload, mask = text.encode(), os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask
    connection.sendall(frame + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)))


def ws_receive(connection: ssl.SSLSocket, timeout: float = 30) -> str:
    """The next text frame from the server (unmasked, any length up to 64 KiB)."""
    connection.settimeout(timeout)

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = connection.recv(count - len(data))
            assert chunk, f"connection closed after {data!r}"
            data += chunk
        return data

    opcode, length = exactly(2)
    assert opcode == 0x81, f"expected a text frame, got opcode {opcode:#x}"
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    return exactly(length).decode()

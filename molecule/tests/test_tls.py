"""HTTPS at Nginx: redirects, certificate, protocols, security headers, compression, and
Django's own deployment checks."""

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import checked_once, wait_for

HOST_TLS = """
import json, socket, ssl, sys
cafile, port = sys.argv[1], int(sys.argv[2])
out = {}
for name, maximum in (("default", None), ("tls1.2", ssl.TLSVersion.TLSv1_2)):
    context = ssl.create_default_context(cafile=cafile)
    if maximum:
        context.maximum_version = maximum
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            out[name] = tls.version()
print(json.dumps(out))
"""


@pytest.fixture(autouse=True)
def needs_tls(stack) -> None:
    if not stack.tls:
        pytest.skip("this scenario serves plain HTTP (nginx_tls_mode none)")


def test_http_redirects_to_https_except_the_probe(http, stack) -> None:
    response = http("/admin/login/?next=/admin/", scheme="http")
    assert response.status == 301
    expected = f"https://127.0.0.1:{stack.https_port}/admin/login/?next=/admin/"
    assert response.headers["Location"] == expected
    assert http("/nginx-health", scheme="http").status == 200


def test_https_speaks_tls_1_3_and_1_2_with_a_valid_certificate(host, stack) -> None:
    cafile = f"/etc/djstack/{stack.name}/tls/fullchain.pem"
    result = host.run(f"python3 -c {shlex.quote(HOST_TLS)} {cafile} {stack.https_port}")
    assert result.rc == 0, result.stderr[-1500:]
    assert result.stdout.strip() == '{"default": "TLSv1.3", "tls1.2": "TLSv1.2"}'


@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_pages_carry_security_headers(http, path) -> None:
    headers = http(path).headers
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=31536000"), headers
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == "same-origin"


def test_static_files_are_compressed_and_carry_security_headers(http) -> None:
    page = http("/admin/login/")
    stylesheet = re.findall(r'href="(/static/[^"]+\.css)"', page.body)[0]
    css = http(stylesheet, headers={"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.headers.get("Content-Encoding") == "gzip", css.headers
    assert css.headers.get("X-Content-Type-Options") == "nosniff"
    assert "Strict-Transport-Security" in css.headers


def test_session_and_csrf_cookies_are_secure(django) -> None:
    flags = django(
        "from django.conf import settings as s\n"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY)"
    )
    assert flags.split() == ["True", "True", "True"]


def test_django_deploy_checks_report_no_issues(docker, stack) -> None:
    output = docker("exec", stack.container("web"), "django-admin", "check", "--deploy")
    assert "System check identified no issues" in output, output


@dataclass(frozen=True)
class Pebble:
    directory: str
    server_ca: Path
    root: Path


@contextlib.contextmanager
def reachable_from_docker_host(host, port: int, files: tuple[Path, ...]):
    """Make the control node's 127.0.0.1:port, and these files, reachable from the Docker
    host: nothing to do for a local engine; a remote server gets an SSH reverse tunnel (the
    scenario's own key and port) and copies of the files at the same paths."""
    variables = host.ansible.get_variables()
    if variables.get("ansible_connection") == "local":
        yield
        return
    for path in files:
        content = shlex.quote(path.read_text())
        host.run_test(f"install -d -m 0755 {path.parent} && printf %s {content} > {path}")
    tunnel = subprocess.Popen(
        ["ssh", "-N", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes"]
        + ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        + ["-i", variables["ansible_private_key_file"], "-p", str(variables["ansible_port"])]
        + [
            "-R",
            f"{port}:127.0.0.1:{port}",
            f"{variables['ansible_user']}@{variables['ansible_host']}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    probe = f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 3)'"
    try:
        wait_for(lambda: host.run(probe).rc == 0, 30, f"the tunnel to 127.0.0.1:{port}")
        if tunnel.poll() is not None:
            pytest.fail(f"the SSH tunnel exited: {tunnel.stderr.read().decode()[-1500:]}")
        yield
    finally:
        tunnel.terminate()
        tunnel.wait(10)
        host.run(f"rm -rf {' '.join(str(path.parent) for path in files)}")


@pytest.fixture
def pebble(tmp_path, stack, host):
    """Pebble, Let's Encrypt's test ACME server (Debian's package, installed by the
    scenario's prepare step), on 127.0.0.1, validating HTTP-01 on the stack's HTTP port.
    The ACME steps are the nginx role's own, the same on any host: checked once."""
    checked_once(stack, "ACME issuance (the nginx role's own logic)")
    if shutil.which("pebble") is None:
        pytest.fail("pebble is not installed: the scenario's prepare playbook installs it")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    config = {
        "pebble": {
            "listenAddress": "127.0.0.1:14000",
            "managementListenAddress": "127.0.0.1:15000",
            "certificate": str(cert),
            "privateKey": str(key),
            "httpPort": stack.http_port,
            "tlsPort": stack.https_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (tmp_path / "pebble.json").write_text(json.dumps(config))
    log = (tmp_path / "pebble.log").open("w")
    # No artificial validation delay and no rejected nonces: the test is about djstack.
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
    process = subprocess.Popen(
        ["pebble", "-config", str(tmp_path / "pebble.json")], stdout=log, stderr=log, env=env
    )
    context = ssl.create_default_context(cafile=str(cert))

    def fetch(url: str) -> bytes:
        return urllib.request.urlopen(url, context=context, timeout=5).read()

    def answers() -> bool:
        if process.poll() is not None:
            log.flush()
            pytest.fail(f"pebble exited: {(tmp_path / 'pebble.log').read_text()[-1500:]}")
        try:
            return b"newOrder" in fetch("https://127.0.0.1:14000/dir")
        except OSError:
            return False

    try:
        wait_for(answers, 30, "Pebble to answer")
        root = tmp_path / "pebble-root.pem"
        root.write_bytes(fetch("https://127.0.0.1:15000/roots/0"))
        with reachable_from_docker_host(host, 14000, (cert,)):
            yield Pebble("https://127.0.0.1:14000/dir", cert, root)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def served_certificate_issuer(port: int, root: Path, name: str) -> str:
    """Issuer CN of the certificate served on 127.0.0.1:port, verified against root for name."""
    context = ssl.create_default_context(cafile=str(root))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        issuer = dict(item[0] for item in tls.getpeercert()["issuer"])
    return issuer["commonName"]


def test_acme_certificate_from_pebble_is_issued_served_and_not_renewed_early(
    pebble, site_playbook, stack
) -> None:
    acme = json.dumps(
        {
            "nginx_tls_mode": "acme",
            "nginx_acme_directory": pebble.directory,
            "nginx_acme_ca_file": str(pebble.server_ca),
        }
    )

    def converge(*extra: str) -> str:
        result = site_playbook(*extra)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-3000:]
        return output

    try:
        converge("-e", acme)
        for name in ("localhost", "127.0.0.1"):
            issuer = served_certificate_issuer(stack.https_port, pebble.root, name)
            assert issuer.startswith("Pebble Intermediate CA"), issuer
        rerun = converge("-e", acme)
        changed = re.findall(r"TASK \[([^\]]*)\][^\n]*\n(?:[^\n]*\n)?changed", rerun)
        assert "changed=0" in rerun and not re.search(r"changed=[1-9]", rerun), (
            f"a second ACME run changed something: {changed}"
        )
    finally:
        converge()
    with pytest.raises(ssl.SSLCertVerificationError):
        served_certificate_issuer(stack.https_port, pebble.root, "localhost")


def test_testssl_finds_no_protocol_below_tls_1_2_and_no_vulnerability(stack, tmp_path) -> None:
    """testssl.sh (Debian's package) scans protocols (-p) and vulnerabilities (-U)."""
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if testssl is None:
        pytest.fail("testssl.sh is not installed: the scenario's prepare playbook installs it")
    report = tmp_path / "testssl.json"
    subprocess.run(
        [testssl, "--quiet", "--color", "0", "--warnings", "off", "--ip", "one"]
        + ["--jsonfile", str(report), "-p", "-U", f"127.0.0.1:{stack.https_port}"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    findings = {item["id"]: item for item in json.loads(report.read_text())}
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert findings[old]["finding"] == "not offered", findings[old]
    assert findings["TLS1_2"]["finding"] == "offered"
    assert findings["TLS1_3"]["finding"].startswith("offered")
    assert {"heartbleed", "ROBOT", "POODLE_SSL", "SWEET32", "LUCKY13", "BEAST"} <= findings.keys()
    flagged = {
        key: (item["severity"], item["finding"])
        for key, item in findings.items()
        if item["severity"] not in ("OK", "INFO")
    }
    assert not flagged, f"testssl.sh flagged: {flagged}"

"""HTTPS at Nginx: redirects, certificate, protocols, security headers, compression, and
Django's own deployment checks."""

import re
import shlex

import pytest

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

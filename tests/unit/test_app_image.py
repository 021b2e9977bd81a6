"""The app image's helpers: the project check names the variable behind a setting that does
not load, and `djstack-app alive` reads the liveness files."""

import os
import subprocess
import sys
import time

from conftest import ROOT, load

check = load("roles/images/files/app/usr/local/lib/djstack/djstack_check.py")
ENTRY = ROOT / "roles/images/files/app/usr/local/bin/djstack-app"


def test_an_application_path_loads_its_callable_and_refuses_anything_else(
    tmp_path, monkeypatch
) -> None:
    (tmp_path / "proj_wsgi.py").write_text(
        "def application(environ, start):\n    pass\nnot_app = 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert callable(check.load_application("proj_wsgi:application"))
    assert check.load_application("") is None
    try:
        check.load_application("proj_wsgi:not_app")
    except TypeError as error:
        assert "is a int, not an application callable" in str(error)
    else:
        raise AssertionError("a non-callable was taken for an application")


def test_a_setting_that_does_not_load_names_its_djstack_variable(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "no_such_settings_module")
    assert check.main() == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "djstack_app_settings_module: the settings module 'no_such_settings_module'"
    )
    assert "ModuleNotFoundError" in out


def test_gunicorns_own_worker_classes_need_no_import() -> None:
    assert check.load_worker_class("gthread") == "gthread"


def alive(*args: str, env: dict) -> int:
    return subprocess.run(["sh", str(ENTRY), "alive", *args], env=env, check=False).returncode


def test_liveness_is_a_file_touched_within_the_given_seconds(tmp_path) -> None:
    env = {
        **os.environ,
        "DJSTACK_WORKER_ALIVE": str(tmp_path / "w"),
        "DJSTACK_BEAT_ALIVE": str(tmp_path / "b"),
    }
    assert alive("worker", "10", env=env) == 1, "no file yet"
    (tmp_path / "w").touch()
    assert alive("worker", "10", env=env) == 0
    old = time.time() - 60
    os.utime(tmp_path / "w", (old, old))
    assert alive("worker", "10", env=env) == 1, "a stale file"
    assert alive("nobody", "10", env=env) == 2, "an unknown service is a usage error"


def test_the_entry_point_hands_secret_files_to_the_service_as_variables(tmp_path) -> None:
    (tmp_path / "secret_key").write_text("s3cret value")
    env = {
        **os.environ,
        "DJSTACK_SECRETS_DIR": str(tmp_path),
        "DJSTACK_SECRET_ENV": "SECRET_KEY=secret_key",
    }
    shown = subprocess.run(
        ["sh", str(ENTRY), "printenv", "SECRET_KEY"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.stdout == "s3cret value\n", shown.stderr
    env["DJSTACK_SECRET_ENV"] = "SECRET_KEY=missing"
    assert (
        subprocess.run(
            ["sh", str(ENTRY), "true"], env=env, capture_output=True, check=False
        ).returncode
        != 0
    ), "a missing secret file must stop the service, not start it without the secret"


def test_the_entry_point_is_posix_sh() -> None:
    assert subprocess.run(["sh", "-n", str(ENTRY)], check=False).returncode == 0
    assert sys.executable


probe = load("roles/images/files/app/usr/local/lib/djstack/djstack_probe.py")


def test_readiness_names_each_failed_check_without_a_password() -> None:
    def refused() -> None:
        raise ConnectionError("redis://app:s3cret@redis:6379/0 refused\nmore")

    status, body = probe.ready({"database": lambda: None, "broker": refused})
    assert status == 503
    assert body == {
        "database": "ok",
        "broker": "ConnectionError: redis://app:***@redis:6379/0 refused",
    }
    assert probe.ready({"database": lambda: None}) == (200, {"database": "ok"})


def test_the_wsgi_wrapper_answers_its_paths_and_passes_every_other_request_on(monkeypatch) -> None:
    monkeypatch.setattr(probe, "CHECKS", {"database": lambda: None})
    monkeypatch.setattr(probe, "ready", lambda checks=None: (200, {"database": "ok"}))
    seen = []

    def project(environ, start_response):
        seen.append(environ["PATH_INFO"])
        start_response("404 Not Found", [])
        return [b"project"]

    app = probe.wrap_wsgi(project)
    statuses = []
    body = app({"PATH_INFO": probe.READY}, lambda line, headers: statuses.append(line))
    assert statuses == ["200 OK"] and b'"database": "ok"' in body[0]
    assert app({"PATH_INFO": probe.ALIVE}, lambda line, headers: statuses.append(line))
    assert app({"PATH_INFO": "/healthz"}, lambda line, headers: statuses.append(line)) == [
        b"project"
    ]
    assert seen == ["/healthz"] and statuses[-1] == "404 Not Found"


def test_the_asgi_wrapper_answers_its_paths_and_passes_websockets_on(monkeypatch) -> None:
    import asyncio

    monkeypatch.setattr(probe, "ready", lambda checks=None: (503, {"cache": "TimeoutError"}))
    passed, sent = [], []

    async def project(scope, receive, send):
        passed.append(scope["type"])

    async def send(message):
        sent.append(message)

    app = probe.wrap_asgi(project)
    asyncio.run(app({"type": "http", "path": probe.READY}, None, send))
    asyncio.run(app({"type": "websocket", "path": probe.READY}, None, send))
    assert sent[0]["status"] == 503 and sent[1]["body"] == b'{"cache": "TimeoutError"}'
    assert passed == ["websocket"]


def test_a_path_setting_away_from_djstacks_volume_names_the_variable_to_set() -> None:
    class Settings:
        STATIC_ROOT = "/app/staticfiles"
        MEDIA_ROOT = "/app/mediafiles/"

    environ = {"DJSTACK_STATIC_ROOT": "/srv/static", "DJSTACK_MEDIA_ROOT": "/app/mediafiles"}
    expected = (
        "djstack_app_static_root: the project's STATIC_ROOT is '/app/staticfiles', but djstack mounts"
        " the volume for it at '/srv/static': set djstack_app_static_root: /app/staticfiles (or make"
        " the project read it)"
    )
    assert check.path_problems(Settings, environ) == [expected]
    assert check.path_problems(Settings, {}) == []

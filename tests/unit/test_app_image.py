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


def test_the_entry_point_is_posix_sh() -> None:
    assert subprocess.run(["sh", "-n", str(ENTRY)], check=False).returncode == 0
    assert sys.executable

"""The app's own pytest-django suite passes inside the app image, against the live
PostgreSQL and Redis of the stack (a scratch test database, spare Redis databases)."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

APP = ROOT / "app"


def test_app_suite_passes_against_live_postgres_and_redis(host, inspect, stack, tmp_path) -> None:
    if host.ansible.get_variables().get("ansible_connection") != "local":
        pytest.skip("the app suite mounts test packages from the control node: local hosts only")
    deps = tmp_path / "testdeps"
    # Test packages are pure Python: resolved here, for the image's Python, hash-checked.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(deps),
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "--python-version",
            "3.13",
            "-r",
            str(APP / "requirements-test.lock"),
        ],
        check=True,
    )
    web = inspect(stack.container("web"))
    env = dict(item.split("=", 1) for item in web["Config"]["Env"])
    # Spare Redis databases keep the suite's keys away from the running app's.
    env.update(
        {
            "PYTHONPATH": "/app:/opt/testdeps",
            # The suite's test client speaks plain HTTP to Django directly.
            "DJANGO_SECURE": "0",
            "REDIS_CACHE_URL": env["REDIS_CACHE_URL"].rsplit("/", 1)[0] + "/5",
            "REDIS_BROKER_URL": env["REDIS_BROKER_URL"].rsplit("/", 1)[0] + "/6",
            "REDIS_RESULTS_URL": env["REDIS_RESULTS_URL"].rsplit("/", 1)[0] + "/7",
        }
    )
    secrets = next(m["Source"] for m in web["Mounts"] if m["Destination"] == "/run/secrets")
    args = [
        "docker",
        "run",
        "--rm",
        "--network",
        stack.name,
        "--volume",
        f"{secrets}:/run/secrets:ro",
        "--volume",
        f"{deps}:/opt/testdeps:ro",
        "--entrypoint",
        "python3",
    ]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    args += [web["Config"]["Image"], "-m", "pytest", "-p", "no:cacheprovider", "/app"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    summary = result.stdout.strip().splitlines()[-1:] or [result.stderr[-2000:]]
    print("app suite:", json.dumps(summary))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

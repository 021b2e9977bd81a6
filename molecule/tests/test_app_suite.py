"""The app's own pytest-django suite passes inside the app image, against the live
PostgreSQL and Redis of the stack (a scratch test database, spare Redis databases)."""

import json
import secrets
import subprocess
import sys

import pytest
from conftest import ROOT

APP = ROOT / "app"


def test_app_suite_passes_against_live_postgres_and_redis(
    host, docker, inspect, stack, tmp_path
) -> None:
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
    # The app's own role may not create databases; Django's test runner needs one that may,
    # for its scratch test database.
    superuser = host.ansible.get_variables().get("postgres_superuser", "postgres")
    tester, password = "djstack_suite", secrets.token_hex(16)
    create = f"CREATE ROLE {tester} LOGIN CREATEDB PASSWORD '{password}'"
    docker("exec", stack.container("postgres"), "psql", "-U", superuser, "-d", "postgres",
           "-c", f"DROP ROLE IF EXISTS {tester}", "-c", create)  # fmt: skip
    env.pop("DATABASE_PASSWORD_FILE", None)
    # Spare Redis databases keep the suite's keys away from the running app's.
    env.update(
        {
            "PYTHONPATH": "/app:/opt/testdeps",
            "DATABASE_USER": tester,
            "DATABASE_PASSWORD": password,
            # The suite's test client speaks plain HTTP to Django directly.
            "DJANGO_SECURE": "0",
            "REDIS_CACHE_URL": env["REDIS_CACHE_URL"].rsplit("/", 1)[0] + "/5",
            "REDIS_BROKER_URL": env["REDIS_BROKER_URL"].rsplit("/", 1)[0] + "/6",
            "REDIS_RESULTS_URL": env["REDIS_RESULTS_URL"].rsplit("/", 1)[0] + "/7",
        }
    )
    secret_dir = next(m["Source"] for m in web["Mounts"] if m["Destination"] == "/run/secrets")
    args = [
        "docker",
        "run",
        "--rm",
        "--network",
        stack.name,
        "--volume",
        f"{secret_dir}:/run/secrets:ro",
        "--volume",
        f"{deps}:/opt/testdeps:ro",
        "--entrypoint",
        "python3",
    ]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    args += [web["Config"]["Image"], "-m", "pytest", "-p", "no:cacheprovider", "/app"]
    try:
        result = subprocess.run(args, capture_output=True, text=True, check=False)
    finally:
        docker("exec", stack.container("postgres"), "psql", "-U", superuser, "-d", "postgres",
               "-c", f"DROP DATABASE IF EXISTS test_{env['DATABASE_NAME']}", "-c", f"DROP ROLE IF EXISTS {tester}")  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1:] or [result.stderr[-2000:]]
    print("app suite:", json.dumps(summary))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

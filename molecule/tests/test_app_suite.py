"""The app's own pytest-django suite passes through `make run` (a one-off container of the
release web serves), against the live PostgreSQL and Redis of the stack: a scratch test
database, spare Redis databases."""

import json
import secrets
import subprocess
import sys

import pytest
from conftest import ROOT

APP = ROOT / "app"


def test_app_suite_passes_through_make_run_against_live_postgres_and_redis(
    host, docker, inspect, request, stack, tmp_path
) -> None:
    if host.ansible.get_variables().get("ansible_connection") != "local":
        pytest.skip("the suite's test packages are mounted from the control node: local hosts only")
    deps = tmp_path / "testdeps"
    # Test packages are pure Python: resolved here, for the image's Python, hash-checked.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(deps), "--no-deps", "--require-hashes", "--only-binary=:all:",
         "--python-version", "3.13", "-r", str(APP / "requirements-test.lock")],
        check=True,
    )  # fmt: skip
    deps.chmod(0o755)
    env = dict(item.split("=", 1) for item in inspect(stack.container("web"))["Config"]["Env"])
    # The app's own role may not create databases; Django's test runner needs one that may,
    # for its scratch test database.
    superuser = host.ansible.get_variables().get("postgres_superuser", "postgres")
    tester, password = "djstack_suite", secrets.token_hex(16)

    def admin(*sql: str) -> None:
        commands = [arg for statement in sql for arg in ("-c", statement)]
        docker(
            "exec",
            stack.container("postgres"),
            "psql",
            "-U",
            superuser,
            "-d",
            "postgres",
            *commands,
        )

    admin(
        f"DROP ROLE IF EXISTS {tester}",
        f"CREATE ROLE {tester} LOGIN CREATEDB PASSWORD '{password}'",
    )
    overrides = {
        "PYTHONPATH": "/app:/opt/testdeps",
        "DATABASE_USER": tester,
        "DATABASE_PASSWORD_FILE": "",
        "DATABASE_PASSWORD": password,
        # The suite's test client speaks plain HTTP to Django directly.
        "DJANGO_SECURE": "0",
        # Spare Redis databases keep the suite's keys away from the running app's.
        "REDIS_CACHE_URL": env["REDIS_CACHE_URL"].rsplit("/", 1)[0] + "/5",
        "REDIS_BROKER_URL": env["REDIS_BROKER_URL"].rsplit("/", 1)[0] + "/6",
        "REDIS_RESULTS_URL": env["REDIS_RESULTS_URL"].rsplit("/", 1)[0] + "/7",
    }
    options = [f"--docker-arg=--volume={deps}:/opt/testdeps:ro"]
    options += [f"--docker-arg=--env={name}={value}" for name, value in overrides.items()]
    command = [sys.executable, "roles/deploy/files/djstack-ops.py", "-i", request.config.getoption("ansible_inventory"),
               "run", *options, "python3", "-m", "pytest", "-p", "no:cacheprovider", "/app"]  # fmt: skip
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        admin(
            f"DROP DATABASE IF EXISTS test_{env['DATABASE_NAME']}", f"DROP ROLE IF EXISTS {tester}"
        )
    summary = result.stdout.strip().splitlines()[-1:] or [result.stderr[-2000:]]
    print("app suite:", json.dumps(summary))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout, result.stdout[-2000:]
    leftovers = docker("ps", "--all", "--quiet", "--filter", f"label=io.djstack.stack={stack.name}",
                       "--filter", "label=io.djstack.service=run")  # fmt: skip
    assert leftovers.strip() == "", "the one-off container was not removed"

"""Releases under load: a deploy and a rollback drop no request, and a bad release never takes
traffic."""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ROOT, checked_once, ok
from load import Load

A_MARK = "<h1>myproject</h1>"
B_MARK = "<h1>myproject release B</h1>"


@pytest.fixture(autouse=True)
def prod_only(stack) -> None:
    checked_once(stack, "releases under load")


def app_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / "app", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def release_b(tmp_path: Path) -> Path:
    app = app_copy(tmp_path, "app-b")
    page = app / "apps/core/templates/core/home.html"
    page.write_text(page.read_text().replace(A_MARK, B_MARK))
    return app


def timed(run, *args) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    result = run(*args)
    return time.monotonic() - started, result


def under_load(stack, cafile: str) -> Load:
    return Load(
        port=stack.https_port,
        path="/",
        cafile=cafile,
        connections=24,
        markers=(A_MARK, B_MARK),
    )


def record(name: str, figures: dict) -> None:
    """Keep the measured window for the session note (.cache is git-ignored)."""
    path = ROOT / ".cache" / "release-figures.json"
    path.parent.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2))


def test_deploy_then_rollback_under_load_drops_no_request(
    playbook, http, stack, tmp_path, local_cafile
) -> None:
    assert A_MARK in http("/").body
    app_b = release_b(tmp_path)
    with under_load(stack, local_cafile) as load:
        time.sleep(3)
        deploy_s, deployed = timed(playbook, "site.yml", "-e", f"djstack_app_src={app_b}")
        ok(deployed)
        time.sleep(3)
        after_deploy = http("/").body
        rollback_s, rolled = timed(playbook, "playbooks/rollback.yml")
        rolled_output = ok(rolled)
        time.sleep(3)
        after_rollback = http("/").body
    record(
        "deploy_and_rollback",
        {
            "deploy_s": deploy_s,
            "rollback_s": rollback_s,
            "ok": load.ok,
            "failed": load.failed,
            "retried": load.retried,
        },
    )
    assert load.failed == 0, (
        f"{load.failed} failed of {load.ok + load.failed}: {dict(load.failures)}"
    )
    assert load.ok > 500, f"the load sent only {load.ok} requests"
    assert B_MARK in after_deploy, "the page does not show release B after the deploy"
    assert A_MARK in after_rollback, "the page does not show release A after the rollback"
    served = [marker for _, marker in load.seen]
    assert served[0] == A_MARK and B_MARK in served and served[-1] == A_MARK, served
    assert "The database is not touched" in rolled_output


def test_release_log_records_deploy_and_rollback(host, stack) -> None:
    lines = host.file(f"/var/lib/djstack/{stack.name}/releases.log").content_string.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["action"] for e in entries[-2:]] == ["deploy", "rollback"]
    assert entries[-1]["release"] != entries[-2]["release"]
    releases = [e for e in entries if e["action"] in ("deploy", "rollback")]
    assert all(e["by"] and e["time"] and e["revision"] for e in releases)


def test_failing_migration_keeps_the_old_release_serving(
    playbook, http, stack, tmp_path, local_cafile
) -> None:
    app = app_copy(tmp_path, "app-bad-migration")
    page = app / "apps/core/templates/core/home.html"
    page.write_text(page.read_text().replace(A_MARK, B_MARK))
    (app / "apps/core/migrations/0002_fails.py").write_text(
        "from django.db import migrations\n\n\n"
        "def fail(apps, schema_editor):\n"
        '    raise RuntimeError("release B migration fails on purpose")\n\n\n'
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("core", "0001_initial")]\n'
        "    operations = [migrations.RunPython(fail)]\n"
    )
    with under_load(stack, local_cafile) as load:
        time.sleep(2)
        result = playbook("site.yml", "-e", f"djstack_app_src={app}")
        time.sleep(2)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "a failing migration did not fail the run"
    assert "Release step 'migrate' failed" in output and "fails on purpose" in output, output[
        -2000:
    ]
    assert load.failed == 0, dict(load.failures)
    assert A_MARK in http("/").body


def test_web_failing_its_healthcheck_never_takes_traffic(
    playbook, http, stack, docker, local_cafile
) -> None:
    serving = stack.container("web")
    broken = json.dumps(
        {
            "django_web_extra_env": {"DJANGO_SETTINGS_MODULE": "myproject.missing"},
            "django_web_healthy_timeout": 25,
        }
    )
    with under_load(stack, local_cafile) as load:
        time.sleep(2)
        result = playbook("site.yml", "-e", broken)
        time.sleep(2)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "did not become healthy and ready, so it was removed" in output, output[-2000:]
    assert f"{serving} keeps serving" in output
    assert load.failed == 0, dict(load.failures)
    assert stack.container("web") == serving
    assert A_MARK in http("/").body

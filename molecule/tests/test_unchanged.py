"""A rerun with nothing to do ends after site.yml's first play; a changed input, a stopped
container or an edited file that djstack wrote makes the next run go through every role; a
change of the app's source alone makes a release and leaves the engine, the data services
and Nginx's own play alone.

The scenarios turn the early end off (deploy_skip_unchanged: false in their group_vars), so
that converge and idempotence exercise the roles themselves; these tests turn it back on.
"""

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import ROOT, checked_once, held

ENDED_EARLY = "is as its last complete deploy"
RELEASE_ONLY = "Only the app's source changed since the last complete deploy"
# Roles none of whose tasks a release-only run reaches once the inputs are validated.
LEFT_ALONE = ("docker_host", "postgres", "redis")
ROLES = (
    "docker_host",
    "images",
    "djstack",
    "deploy",
    "postgres",
    "redis",
    "django_web",
    "celery_worker",
    "nginx",
)


def deploy(site_playbook: Callable[..., subprocess.CompletedProcess], *extra: str) -> str:
    result = site_playbook("-e", "deploy_skip_unchanged=true", *extra)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def ended_early(output: str) -> bool:
    """True when the first play found nothing to do and no role ran a task after it."""
    after_first_play = output.split("PLAY [", 2)[-1]
    return ENDED_EARLY in output and not any(
        f"TASK [{role} :" in after_first_play for role in ROLES
    )


def records_of(stack) -> Path:
    """The control node's directory of the stack's deploy records (deploy_record's default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "djstack" / "deployed" / stack.name


def test_an_unchanged_rerun_ends_after_the_first_play_and_changes_nothing(
    site_playbook, stack
) -> None:
    # A records directory that exists keeps its mode: it may be one the operator shares.
    records = records_of(stack)
    records.mkdir(parents=True, exist_ok=True)
    records.chmod(0o750)
    first = deploy(site_playbook)
    assert "changed=0" in first, f"the converged stack changed: {first[-2000:]}"
    assert oct(records.stat().st_mode & 0o777) == oct(0o750), (
        "the record changed its directory's mode"
    )
    again = deploy(site_playbook)
    assert ended_early(again), f"the rerun went through the roles: {again[-2000:]}"
    assert "changed=0" in again, again[-2000:]
    checked = deploy(site_playbook, "--check")
    assert ended_early(checked), f"check mode went through the roles: {checked[-2000:]}"


def test_a_changed_input_goes_through_every_role_and_check_mode_reports_it(
    site_playbook, stack
) -> None:
    checked_once(stack, "the inputs' fingerprint")
    deploy(site_playbook)
    output = deploy(site_playbook, "--check", "-e", "celery_worker_concurrency=7")
    assert not ended_early(output), "a changed variable was taken for no change"
    assert "changed=0" not in output, (
        f"check mode did not report the worker's change: {output[-2000:]}"
    )
    assert ended_early(deploy(site_playbook)), "the check-mode run left the stack changed"


def test_a_stopped_container_or_an_edited_file_is_put_back_by_the_next_run(
    host, site_playbook, docker, stack
) -> None:
    checked_once(stack, "drift on the host", remote=True)
    deploy(site_playbook)
    with held(host, docker, stack, "redis"):
        output = deploy(site_playbook)
    assert not ended_early(output), "a stopped Redis was taken for no change"
    assert ended_early(deploy(site_playbook)), "the run after the repair went through the roles"

    headers = f"/etc/djstack/{stack.name}/nginx/security-headers.inc"
    original = host.file(headers).content_string
    host.check_output(f"echo '# edited by hand' >> {headers}")
    output = deploy(site_playbook)
    assert not ended_early(output), "an edited Nginx file was taken for no change"
    assert host.file(headers).content_string == original, "the edited file was not put back"
    assert ended_early(deploy(site_playbook)), "the run after the repair went through the roles"


def after_validation(output: str) -> str:
    return output.split("PLAY [Every image the stack runs", 1)[-1]


def test_a_change_of_the_app_source_alone_makes_a_release_and_nothing_else(
    site_playbook, http, stack, tmp_path
) -> None:
    checked_once(stack, "the inputs' fingerprint")
    deploy(site_playbook)
    app = tmp_path / "app"
    shutil.copytree(ROOT / "app", app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    page = app / "apps/core/templates/core/home.html"
    page.write_text(page.read_text().replace("<h1>myproject</h1>", "<h1>myproject edited</h1>"))
    try:
        output = deploy(site_playbook, "-e", f"djstack_app_src={app}")
        assert RELEASE_ONLY in output, f"not taken for a change of the source: {output[-2000:]}"
        later = after_validation(output)
        touched = [role for role in LEFT_ALONE if f"TASK [{role} :" in later]
        assert not touched, f"a release-only run ran tasks of {touched}"
        assert "TASK [nginx : Site configuration is current]" not in later
        assert "TASK [django_web :" in later and "TASK [images :" in later
        assert "<h1>myproject edited</h1>" in http("/").body, "the new release does not serve"
        again = deploy(site_playbook, "-e", f"djstack_app_src={app}")
        assert ended_early(again), "the run after the release went through the roles"
    finally:
        back = deploy(site_playbook)
    assert RELEASE_ONLY in back, "going back to the project's source was not a release alone"
    assert "<h1>myproject</h1>" in http("/").body, "the former source does not serve again"

"""A rerun with nothing to do ends after site.yml's first play; a changed input, a stopped
container or an edited file that djstack wrote makes the next run go through every role.

The scenarios turn the early end off (deploy_skip_unchanged: false in their group_vars), so
that converge and idempotence exercise the roles themselves; these tests turn it back on.
"""

import subprocess
from collections.abc import Callable

from conftest import checked_once, held, wait_for

ENDED_EARLY = "is as its last complete deploy"
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


def test_an_unchanged_rerun_ends_after_the_first_play_and_changes_nothing(site_playbook) -> None:
    first = deploy(site_playbook)
    assert "changed=0" in first, f"the converged stack changed: {first[-2000:]}"
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
    checked_once(stack, "drift on the host")
    deploy(site_playbook)
    with held(host, docker, stack, "redis") as redis:
        output = deploy(site_playbook)
    assert not ended_early(output), "a stopped Redis was taken for no change"
    wait_for(
        lambda: (
            docker("inspect", "--format", "{{.State.Health.Status}}", redis).strip() == "healthy"
        ),
        60,
        "Redis healthy again",
    )
    assert ended_early(deploy(site_playbook)), "the run after the repair went through the roles"

    headers = f"/etc/djstack/{stack.name}/nginx/security-headers.inc"
    original = host.file(headers).content_string
    host.check_output(f"echo '# edited by hand' >> {headers}")
    output = deploy(site_playbook)
    assert not ended_early(output), "an edited Nginx file was taken for no change"
    assert host.file(headers).content_string == original, "the edited file was not put back"
    assert ended_early(deploy(site_playbook)), "the run after the repair went through the roles"

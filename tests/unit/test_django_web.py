"""The django_web role's plugins: what a failed readiness probe most likely means, the release
command and its failed step, and the release log module."""

import json

from conftest import load

filters = load("roles/django_web/filter_plugins/django_web_filters.py")


def test_a_400_points_at_the_allowed_hosts_and_a_404_at_the_probed_path() -> None:
    assert "djstack_app_allowed_hosts" in filters.ready_hint("400 <h1>Bad Request</h1>", "/readyz")
    assert "The project has no /readyz" in filters.ready_hint("404 Not Found", "/readyz")
    assert "names the check" in filters.ready_hint('503 {"database": "OperationalError"}', "/x")
    assert "did not start" in filters.ready_hint("no answer: <urlopen error refused>", "/x")
    assert filters.ready_hint("200 ok", "/readyz") == ""
    alive = filters.ready_hint("404 Not Found", "/healthz", liveness=True)
    assert (
        "set django_web_health_path to its liveness path" in alive and "/-/djstack/alive" in alive
    )


def test_a_failed_probe_names_the_path_that_failed_and_its_variable() -> None:
    health = filters.probe_report("no answer: refused\n", 1, "/healthz", "/readyz")
    assert health.startswith(
        "Its health probe (GET /healthz, django_web_health_path) last answered: no answer: refused\n"
    )
    assert "did not start" in health
    ready = filters.probe_report('503 {"database": "x"}', 2, "/healthz", "/readyz")
    assert ready.startswith("Its readiness probe (GET /readyz, django_web_ready_path)")
    assert "names the check" in ready
    assert "\n" not in filters.probe_report("302 Found", 2, "/h", "/r")
    killed = filters.probe_report("", 137, "/healthz", "/readyz")
    assert (
        "(GET /healthz, django_web_health_path) ended without an answer (exit code 137)" in killed
    )
    assert len(filters.probe_report("500 " + "x" * 1000, 2, "/h", "/r").split(": ", 1)[1]) < 500


def test_a_step_that_could_not_write_names_the_path_the_user_and_the_variables() -> None:
    output = "PermissionError: [Errno 13] Permission denied: '/app/staticfiles/admin'\n"
    hint = filters.write_hint(output, 10001)
    assert hint.startswith(
        "It could not write /app/staticfiles/admin as the app's user (uid 10001)"
    )
    assert "djstack_app_writable_paths" in hint
    assert "Read-only file system" in filters.write_hint(
        "OSError: [Errno 30] Read-only file system: '/app/logs/app.log'", 10001
    )
    assert filters.write_hint("ValueError: nope", 10001) == ""


def test_the_release_command_checks_the_project_first_and_gates_migrate_on_a_backup() -> None:
    command = filters.release_command
    assert command(True, ["migrate", "collectstatic"], True) == [
        "release", "check-project", "--backup-gate", "migrate", "collectstatic",
    ]  # fmt: skip
    assert command(False, ["migrate", "collectstatic"], False) == [
        "release", "migrate", "collectstatic",
    ]  # fmt: skip
    assert command(True, [], True) == ["release", "check-project"]
    assert command(False, ["collectstatic"], True) == ["release", "collectstatic"]
    assert command(False, [], True) == []


def test_the_failed_step_is_the_one_the_release_container_names() -> None:
    output = "djstack-release: check-project took 0.8 s\nTraceback ...\ndjstack-release: migrate failed\n"
    assert filters.failed_step(output, "release") == "migrate"
    # Django's "Applying ..." ends without a newline when the migration raises.
    midline = "  Applying core.0002_fails...djstack-release: migrate failed\n"
    assert filters.failed_step(midline, "release-after-backup") == "migrate"
    assert filters.failed_step("no marker", "release") == "release"


releases = load("roles/django_web/library/django_web_releases.py")


def test_the_release_log_gets_one_line_and_names_images_past_the_kept_ones(tmp_path) -> None:
    log = tmp_path / "state" / "releases.log"
    for n in (1, 2, 1, 3):
        lines = releases.append(str(log), {"action": "deploy", "image": f"app:{n}"})
    releases.append(str(log), {"action": "restart", "container": "s-worker"})
    lines = log.read_text().splitlines()
    assert len(lines) == 5 and oct(log.stat().st_mode & 0o777) == "0o644"
    assert [json.loads(line).get("image") for line in lines] == [
        "app:1", "app:2", "app:1", "app:3", None,
    ]  # fmt: skip
    # Newest first, each image once: 3, 1, 2.
    assert releases.recorded_images(lines) == ["app:3", "app:1", "app:2"]
    assert releases.recorded_images(lines)[2:] == ["app:2"]
    assert releases.recorded_images(["not json", *lines]) == ["app:3", "app:1", "app:2"]

"""The django_web role's filters: what a failed readiness probe most likely means."""

from conftest import load

filters = load("roles/django_web/filter_plugins/django_web_filters.py")


def test_a_400_points_at_the_allowed_hosts_and_a_404_at_the_ready_path() -> None:
    assert "djstack_app_allowed_hosts" in filters.ready_hint("400 <h1>Bad Request</h1>", "/readyz")
    assert "The project has no /readyz" in filters.ready_hint("404 Not Found", "/readyz")
    assert "names the check" in filters.ready_hint('503 {"database": "OperationalError"}', "/x")
    assert "did not start" in filters.ready_hint("no answer: <urlopen error refused>", "/x")
    assert filters.ready_hint("200 ok", "/readyz") == ""


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

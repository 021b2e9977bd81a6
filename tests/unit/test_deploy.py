"""The deploy role's Python: what the roles declared, the inputs' fingerprint, health summaries."""

import os

from conftest import load

filters = load("roles/deploy/filter_plugins/deploy_filters.py")
fingerprint = load("roles/deploy/action_plugins/deploy_fingerprint.py")


def test_declarations_of_every_role_merge_without_repeats_in_a_stable_order() -> None:
    merged = filters.declared(
        {
            "nginx": {"host_files": ["/etc/b", "/etc/a"], "expires": ["/t/c.pem:86400"], "published": []},
            "djstack": {"host_files": ["/etc/a"], "control_files": ["/src/lock"]},
            "images": {"control_files": [{"path": "/src", "exclude": ["media"]}, "", "/src/lock"]},
            "docker_host": {"tables": ["inet:fw"], "units": ["fw.service"]},
        }
    )  # fmt: skip
    assert merged == {
        "host_files": ["/etc/a", "/etc/b"],
        "tables": ["inet:fw"],
        "units": ["fw.service"],
        "expires": ["/t/c.pem:86400"],
        "control_files": [
            {"path": "/src", "exclude": ["media"]},
            {"path": "/src/lock", "exclude": []},
        ],
    }


def test_state_arguments_put_options_before_the_paths() -> None:
    state = {"host_files": ["/etc/a"], "expires": ["/c:1"], "tables": ["inet:t"], "units": ["u"]}
    assert filters.state_arguments(state) == [
        "--expires", "/c:1", "--table", "inet:t", "--unit", "u", "/etc/a",
    ]  # fmt: skip


def test_a_health_summary_says_why_each_container_is_not_healthy() -> None:
    results = [
        {"deploy_started_container": "s-worker", "container": {"State": {"Status": "exited", "ExitCode": 1}}},
        {"deploy_started_container": "s-beat", "container": {"State": {
            "Status": "running", "ExitCode": 0,
            "Health": {"Status": "unhealthy", "Log": [{"Output": "old"}, {"Output": "stale file"}]}}}},
        {"deploy_started_container": "s-gone", "container": None},
    ]  # fmt: skip
    worker, beat, gone = filters.health_summary(results)
    assert worker == {"name": "s-worker", "status": "exited", "exit_code": 1, "health": "none",
                      "check": "(no check has run)"}  # fmt: skip
    assert (beat["health"], beat["check"]) == ("unhealthy", "stale file")
    assert gone["status"] == "missing"


def test_the_files_digest_follows_content_mode_and_exclusions(tmp_path) -> None:
    tree = tmp_path / "src"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "views.py").write_text("a = 1\n")
    (tree / "media").mkdir()
    (tree / "media" / "upload.png").write_bytes(b"\x89PNG")
    first = fingerprint.files_digest([{"path": str(tree), "exclude": ["media"]}])
    (tree / "media" / "upload.png").write_bytes(b"changed")
    assert fingerprint.files_digest([{"path": str(tree), "exclude": ["media"]}]) == first
    (tree / "pkg" / "views.py").write_text("a = 2\n")
    edited = fingerprint.files_digest([{"path": str(tree), "exclude": ["media"]}])
    assert edited != first
    os.chmod(tree / "pkg" / "views.py", 0o755)
    assert fingerprint.files_digest([{"path": str(tree), "exclude": ["media"]}]) != edited
    missing = fingerprint.files_digest([str(tmp_path / "nowhere")])
    assert missing != fingerprint.files_digest([str(tmp_path / "elsewhere")])


def test_every_roles_options_and_prefixes_are_found(roles_dir) -> None:
    names = fingerprint.declared(str(roles_dir))
    assert {"djstack_stack", "deploy_lock_break", "nginx_tls_mode", "images_verify"} <= names
    assert "celery_worker_" in fingerprint.prefixes(str(roles_dir))

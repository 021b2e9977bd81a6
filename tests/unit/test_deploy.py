"""The deploy role's Python: what the roles declared, the inputs' fingerprint, health summaries."""

import hashlib
import json
import os
import re
import subprocess

from conftest import ROOT, load

filters = load("roles/deploy/filter_plugins/deploy_filters.py")
fingerprint = load("roles/deploy/action_plugins/deploy_fingerprint.py")
stack_state = load("roles/deploy/action_plugins/deploy_stack_state.py")
healthy = load("roles/deploy/library/deploy_healthy.py")


def test_declarations_of_every_role_merge_without_repeats_in_a_stable_order() -> None:
    merged = filters.declared(
        {
            "nginx": {"host_files": ["/etc/b", "/etc/a"], "expires": ["/t/c.pem:86400"], "published": []},
            "djstack": {"host_files": ["/etc/a"], "control_files": ["/src/lock"]},
            "images": {"control_files": [{"path": "/src", "exclude": ["media"]}, "", "/src/lock"],
                       "release_files": [{"path": "/src", "exclude": ["media"]}]},
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
        "release_files": [{"path": "/src", "exclude": ["media"]}],
    }


def test_state_arguments_put_options_before_the_paths() -> None:
    state = {"host_files": ["/etc/a"], "expires": ["/c:1"], "tables": ["inet:t"], "units": ["u"]}
    assert stack_state.state_arguments(state) == [
        "--expires", "/c:1", "--table", "inet:t", "--unit", "u", "/etc/a",
    ]  # fmt: skip


def test_the_state_command_runs_the_script_with_its_go_templates_unexpanded(tmp_path) -> None:
    script = (ROOT / "roles/deploy/files/stack-state.sh").read_text()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A docker that prints its arguments: the Go templates must reach it as written.
    (bin_dir / "docker").write_text(
        '#!/bin/sh\nprintf "%s\\n" "$*" >> "$DOCKER_CALLS"\n[ "$1" != ps ] || echo c0ffee\n'
    )
    (bin_dir / "docker").chmod(0o755)
    (tmp_path / "kept").write_text("x\n")
    line = stack_state.command(
        script, "io.djstack.stack=s", {"host_files": [str(tmp_path / "kept")]}
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DOCKER_CALLS": str(tmp_path / "calls"),
    }
    first = subprocess.run(
        ["/bin/sh", "-c", line], env=env, capture_output=True, text=True, check=True
    )
    assert re.fullmatch(r"[0-9a-f]{64}\n", first.stdout)
    calls = (tmp_path / "calls").read_text()
    assert "ps -aq --no-trunc --filter label=io.djstack.stack=s" in calls
    assert "{{range $net, $_ := .NetworkSettings.Networks}}" in calls and calls.count("c0ffee") == 1
    (tmp_path / "kept").write_text("y\n")
    second = subprocess.run(
        ["/bin/sh", "-c", line], env=env, capture_output=True, text=True, check=True
    )
    assert second.stdout != first.stdout, "a changed host file left the digest as it was"


def test_a_rerun_reads_the_state_only_when_every_record_holds_the_stacks_inputs() -> None:
    hosts = [
        {"fingerprint": "v1 f1", "base_fingerprint": "b1 g1"},
        {"fingerprint": "v2 f2", "base_fingerprint": "b2 g2"},
    ]
    inputs, base = stack_state.stack_digests(hosts)
    # The same digests site.yml's records have held: Jinja's hash('sha256') of the joined text.
    assert inputs == hashlib.sha256(b"v1 f1 v2 f2").hexdigest()
    assert base == hashlib.sha256(b"b1 g1 b2 g2").hexdigest()
    same = {"inputs": inputs, "base_inputs": base, "state": "s"}
    assert stack_state.worth_reading([{**h, "deployed": same} for h in hosts], inputs, base)
    source_only = {"inputs": "older", "base_inputs": base, "state": "s"}
    assert stack_state.worth_reading([{**h, "deployed": source_only} for h in hosts], inputs, base)
    one_host_new = [{**hosts[0], "deployed": same}, {**hosts[1], "deployed": {}}]
    assert not stack_state.worth_reading(one_host_new, inputs, base)


def test_a_host_is_unchanged_only_with_its_recorded_state_and_inputs() -> None:
    record = {"inputs": "i", "base_inputs": "b", "state": "s"}
    assert stack_state.verdict(record, "i", "b", True, "s") == {
        "unchanged": True,
        "release_only": True,
    }
    assert stack_state.verdict(record, "new", "b", True, "s") == {
        "unchanged": False,
        "release_only": True,
    }
    for read, state in ((True, "drifted"), (False, ""), (False, "s")):
        assert stack_state.verdict(record, "i", "b", read, state) == {
            "unchanged": False,
            "release_only": False,
        }


def test_the_fingerprint_adds_the_files_its_record_lists(tmp_path) -> None:
    (tmp_path / "lock").write_text("a\n")
    record = tmp_path / "host.json"
    record.write_text(
        json.dumps({"control_files": [{"path": str(tmp_path / "lock"), "exclude": []}]})
    )
    assert fingerprint.recorded(str(record))["control_files"][0]["path"] == str(tmp_path / "lock")
    assert fingerprint.recorded(str(tmp_path / "none.json")) == {}
    assert fingerprint.recorded("") == {}


def test_a_health_summary_says_why_each_container_is_not_healthy() -> None:
    worker = {"State": {"Status": "exited", "ExitCode": 1}}
    beat = {"State": {"Status": "running", "ExitCode": 0,
            "Health": {"Status": "unhealthy", "Log": [{"Output": "old"}, {"Output": "stale file"}]}}}  # fmt: skip
    assert healthy.summary("s-worker", worker, None, False) == {
        "name": "s-worker", "status": "exited", "exit_code": 1, "health": "none",
        "check": "(no check has run)"}  # fmt: skip
    assert healthy.summary("s-beat", beat, None, False)["check"] == "stale file"
    assert healthy.summary("s-beat", beat, "file 4 s old", False)["check"] == "file 4 s old"
    assert healthy.summary("s-beat", beat, "", True)["health"] == "healthy"
    assert healthy.summary("s-gone", None, None, False)["status"] == "missing"


def test_the_health_wait_runs_the_containers_own_check_only_while_it_is_needed() -> None:
    check = {"Test": ["CMD", "djstack-app", "alive", "worker", "10"]}
    starting = {"Name": "/s-worker", "State": {"Status": "running", "Health": {"Status": "starting"}},
                "Config": {"Healthcheck": check}}  # fmt: skip
    assert healthy.verdict(starting) == "waiting"
    assert healthy.check_command("s-worker", check["Test"]) == [
        "docker", "exec", "s-worker", "djstack-app", "alive", "worker", "10"]  # fmt: skip
    assert healthy.check_command("s-web", ["CMD-SHELL", "curl -f x || exit 1"]) == [
        "docker", "exec", "s-web", "/bin/sh", "-c", "curl -f x || exit 1"]  # fmt: skip
    assert healthy.check_command("s", ["NONE"]) is None
    restarting = {"State": {"Status": "restarting", "Health": {"Status": "starting"}}}
    assert healthy.verdict(restarting) == "stopped"
    assert healthy.verdict(None) == "missing"
    docker_says = {"State": {"Status": "running", "Health": {"Status": "healthy"}}}
    assert healthy.verdict(docker_says) == "healthy"
    assert healthy.verdict({"State": {"Status": "running"}}) == "healthy"


def test_a_job_in_the_background_is_awaited_until_its_file_says_it_finished(tmp_path) -> None:
    assert healthy.job_result("") is None, "a file not yet written is a running job"
    assert healthy.job_result('{"started": 1, "finished": 0, "ansible_job_id": "j1"}') is None
    assert healthy.job_result('{"changed": true, "container": {}}') == {
        "changed": True,
        "container": {},
    }
    assert healthy.job_result('{"failed": 1, "msg": "Job reached maximum time limit"}')["failed"]
    done, running = tmp_path / "j1", tmp_path / "j2"
    done.write_text('{"changed": true}')
    running.write_text('{"started": 1, "finished": 0}')
    # The running one ends in its result once written; here, once its limit has passed.
    results = healthy.await_jobs(
        [{"file": str(done), "seconds": 0}, {"file": str(running), "seconds": -5}]
    )
    assert results[0] == {"changed": True}
    assert results[1]["failed"] and "ran past" in results[1]["msg"]
    assert not done.exists() and not running.exists(), "a job's results file was left behind"
    gone = healthy.await_jobs([{"file": str(tmp_path / "none"), "seconds": 9}])
    assert gone[0]["failed"] and "no result file" in gone[0]["msg"]


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


def test_the_base_digest_leaves_out_the_release_files_and_nothing_else(tmp_path) -> None:
    """A change of the app's source alone moves the full digest, not the base one
    (roles/deploy/tasks/unchanged.yml: a release-only run)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "views.py").write_text("a = 1\n")
    (tmp_path / "inventory.yml").write_text("x: 1\n")
    paths = [
        {"path": str(tmp_path / "src") + "/", "exclude": []},
        {"path": str(tmp_path / "inventory.yml"), "exclude": []},
    ]
    release = [{"path": str(tmp_path / "src"), "exclude": ["media"]}]
    assert fingerprint.without(paths, release) == [paths[1]]
    base = fingerprint.files_digest(fingerprint.without(paths, release))
    full = fingerprint.files_digest(paths)
    (tmp_path / "src" / "views.py").write_text("a = 2\n")
    assert fingerprint.files_digest(fingerprint.without(paths, release)) == base
    assert fingerprint.files_digest(paths) != full
    (tmp_path / "inventory.yml").write_text("x: 2\n")
    assert fingerprint.files_digest(fingerprint.without(paths, release)) != base


def test_every_roles_options_and_prefixes_are_found(roles_dir) -> None:
    names = fingerprint.declared(str(roles_dir))
    assert {"djstack_stack", "deploy_lock_break", "nginx_tls_mode", "images_verify"} <= names
    assert "celery_worker_" in fingerprint.prefixes(str(roles_dir))


def test_shared_host_files_count_for_the_state_but_not_as_the_stacks_own() -> None:
    declarations = {
        "docker_host": {"shared": {"host_files": ["/etc/docker/daemon.json"], "units": ["fw.service"]}},
        "postgres": {"host_files": ["/etc/djstack/s/backup.json"], "units": ["djstack-backup-s.timer"],
                     "shared": {"host_files": ["/usr/local/sbin/djstack-pgbackup"]}, "data": ["/var/backups/djstack/s"]},
    }  # fmt: skip
    state = filters.declared(declarations)
    assert state["host_files"] == [
        "/etc/djstack/s/backup.json",
        "/etc/docker/daemon.json",
        "/usr/local/sbin/djstack-pgbackup",
    ]
    assert state["units"] == ["djstack-backup-s.timer", "fw.service"]
    own = filters.own(declarations)
    assert own == {"host_files": ["/etc/djstack/s/backup.json"], "units": ["djstack-backup-s.timer"],
                   "data": ["/var/backups/djstack/s"]}  # fmt: skip


def container(service: str, state: str = "running", health: str = "healthy") -> dict:
    return {"name": f"s-{service}", "service": service, "image": "djstack/app:0123456789abcdef0000", "state": state,
            "health": health, "since": "2026-12-04T22:00:00.1Z", "restarts": 0, "memory": 52428800,
            "memory_limit": 536870912, "cpu_percent": 1.5, "cpu_limit": 1.0, "ports": []}  # fmt: skip


def test_the_status_table_has_a_line_per_container_and_the_stacks_notes() -> None:
    hosts = {
        "web1": {"containers": [container("web"), container("nginx")], "ready": {"status": 200, "body": "ok"},
                 "releases": [{"action": "revived"}, {"action": "deploy", "time": "t", "release": "r", "revision": "v", "by": "me"}],
                 "next_backup": "Sat 2026-12-05 03:15:00 UTC"},
    }  # fmt: skip
    lines = filters.status_table(hosts)
    assert lines[0].split()[:3] == ["SERVICE", "HOST", "CONTAINER"]
    assert (
        "50.0 MiB / 512.0 MiB" in lines[1]
        and "1.5% / 1" in lines[1]
        and "0123456789abcdef" in lines[1]
    )
    assert lines[3:] == ["web1: readiness through Nginx: 200 ok", "web1: last deploy t: release r (revision v) by me",
                         "web1: next backup Sat 2026-12-05 03:15:00 UTC"]  # fmt: skip
    assert filters.unhealthy(hosts) == []


def test_a_stopped_or_unhealthy_service_and_a_failed_readiness_are_named() -> None:
    hosts = {"h": {"containers": [container("redis", "exited", ""), container("worker", health="unhealthy"),
                                  container("release", "exited", "")], "ready": {"status": 503}}}  # fmt: skip
    assert filters.unhealthy(hosts) == [
        "redis (s-redis on h) is exited",
        "worker (s-worker on h) is running unhealthy",
        "readiness through Nginx on h answered 503",
    ]


def test_the_status_inputs_come_from_every_roles_declaration() -> None:
    declarations = {"django_web": {"status": {"ready_path": "/readyz"}}, "nginx": {"status": {"probe_url": "https://127.0.0.1:443"}},
                    "postgres": {"status": {"backup_unit": ""}}}  # fmt: skip
    assert filters.status_inputs(declarations, "io.djstack.stack=s") == {
        "label": "io.djstack.stack=s", "ready_path": "/readyz", "probe_url": "https://127.0.0.1:443",
    }  # fmt: skip


def test_a_plan_names_what_would_change_and_why() -> None:
    lines = filters.plan_lines(
        "h",
        ["djstack/app:1"],
        [{"container": "s-worker", "why": {"before": {"command": ["--concurrency=2"]}, "after": {"command": ["--concurrency=5"]}}},
         {"container": "s-web-1", "why": "its image would be built first"}, {"container": "s-beat", "why": {}}],
        ["migrate", "collectstatic"],
    )  # fmt: skip
    assert lines == [
        "h: would build image djstack/app:1",
        'h: would change s-worker: command ["--concurrency=2"] -> ["--concurrency=5"]',
        "h: would start s-web-1: its image would be built first",
        "h: would create or start s-beat",
        "h: would run the release step migrate",
        "h: would run the release step collectstatic",
    ]


def test_a_target_says_how_to_reach_the_host_and_what_runs_there() -> None:
    hostvars = {"inventory_hostname": "server", "ansible_host": "127.0.0.1", "ansible_port": 2222, "ansible_user": "deploy",
                "ansible_private_key_file": "/k", "ansible_become": True,
                "deploy_targets_found": {"containers": [{"Names": ["/s-web-1"], "Labels": {"io.djstack.service": "web"}, "State": "running"}]}}  # fmt: skip
    found = filters.target(
        hostvars, {"all": ["server"], "web": ["server"], "beat": []}, {"stack": "s"}
    )
    assert (found["address"], found["port"], found["user"], found["key"], found["become"]) == (
        "127.0.0.1",
        2222,
        "deploy",
        "/k",
        True,
    )
    assert found["groups"] == ["web"] and found["stack"] == "s" and found["web"] is None
    assert found["containers"] == [{"name": "s-web-1", "service": "web", "state": "running"}]
    assert filters.running([{"Labels": {"io.djstack.service": "web"}, "State": "running"},
                            {"Labels": {"io.djstack.service": "web"}, "State": "exited"}], "web") == [
        {"Labels": {"io.djstack.service": "web"}, "State": "running"}]  # fmt: skip


def test_a_health_check_runs_within_its_own_timeout(monkeypatch) -> None:
    monkeypatch.setattr(healthy, "check_command", lambda name, test: ["sh", "-c", test[1]])
    assert healthy.run_check("c", {"Test": ["CMD-SHELL", "echo ready"]}) == (True, "ready")
    assert healthy.run_check("c", {"Test": ["CMD-SHELL", "echo stale >&2; exit 1"]}) == (
        False,
        "stale",
    )
    slow = {"Test": ["CMD-SHELL", "sleep 5"], "Timeout": 200_000_000}
    assert healthy.run_check("c", slow) == (False, "the check did not answer within 0.2 s")

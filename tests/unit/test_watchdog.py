"""The watchdog: which stopped containers it starts again, and what it records."""

import json

from conftest import load

watchdog = load("roles/deploy/files/djstack-watchdog.py")


def container(name: str, service: str) -> dict:
    return {
        "Names": name,
        "Labels": f"io.djstack.stack=s,io.djstack.service={service}",
        "Status": "Exited (137)",
    }


def test_one_shot_and_held_containers_are_left_down() -> None:
    stopped = [container("s-redis", "redis"), container("s-web-migrate", "release"),
               container("s-beat", "beat"), container("s-backup", "backup")]  # fmt: skip
    revived = watchdog.to_revive(stopped, held={"s-beat"})
    assert [c["Names"] for c in revived] == ["s-redis"]


def test_nothing_is_started_while_a_deploy_holds_the_lock(tmp_path, monkeypatch) -> None:
    (tmp_path / "deploy.lock").mkdir()
    monkeypatch.setattr(
        watchdog, "stopped_containers", lambda label: [container("s-redis", "redis")]
    )
    config = {"lock_path": str(tmp_path / "deploy.lock"), "held_dir": str(tmp_path / "held"),
              "label": "io.djstack.stack=s", "release_log": str(tmp_path / "releases.log")}  # fmt: skip
    assert watchdog.once(config) == 0
    assert not (tmp_path / "releases.log").exists()


def test_a_revived_container_is_recorded_in_the_release_log(tmp_path) -> None:
    log = tmp_path / "state" / "releases.log"
    watchdog.record(log, container("s-nginx", "nginx"), "started")
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["action"] == "revived" and entry["container"] == "s-nginx"
    assert entry["service"] == "nginx" and entry["outcome"] == "started" and "image" not in entry

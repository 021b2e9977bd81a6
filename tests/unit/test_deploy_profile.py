"""The deploy profile's callback: which step each of site.yml's tasks counts for, and the
sums it prints and writes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, load

profile = load("roles/deploy/callback_plugins/deploy_profile.py")

# Real plays and tasks of site.yml, as a deploy prints them (names templated).
CASES = [
    (
        "Hosts unchanged since their last complete deploy are known",
        "deploy",
        "Inputs of this deploy are fingerprinted on the control node, beside the host's last complete deploy",
        "fingerprint (unchanged-rerun check)",
    ),
    (
        "Every input is valid before any host changes",
        "djstack",
        "DEBUG stays off in production",
        "validation",
    ),
    (
        "A Docker engine answers on every Docker host, and the stack's ports are free",
        "docker_host",
        "Engine state is known",
        "engine and free ports",
    ),
    (
        "Every image the stack runs is on its Docker host",
        "images",
        "Every root filesystem build has finished",
        "image build",
    ),
    (
        "Every image the stack runs is on its Docker host",
        "images",
        "Images already on the Docker host are found",
        "image references and lookup",
    ),
    (
        "Stack network, shared volumes and app secrets exist",
        "deploy",
        "Deploy lock of the stack is taken",
        "deploy lock",
    ),
    (
        "Stack network, shared volumes and app secrets exist",
        "djstack",
        "Stack network exists",
        "network, volumes and secrets",
    ),
    (
        "PostgreSQL is healthy",
        "djstack",
        "Container runs with the stack's shared options, djstack-molecule-postgres",
        "start and health wait: djstack-molecule-postgres",
    ),
    (
        "Migrations have run and Django serves",
        "djstack",
        "Container runs with the stack's shared options, djstack-molecule-web-release",
        "release container (start, Django's load)",
    ),
    (
        "Migrations have run and Django serves",
        "djstack",
        "Container runs with the stack's shared options, djstack-molecule-web-release-after-backup",
        "release container (start, Django's load)",
    ),
    (
        "Migrations have run and Django serves",
        "djstack",
        "Container runs with the stack's shared options, djstack-molecule-web-migrate",
        "migrations",
    ),
    (
        "Migrations have run and Django serves",
        "django_web",
        "Release step succeeded, else the deploy stops with its output, for migrate",
        "migrations",
    ),
    (
        "Migrations have run and Django serves",
        "djstack",
        "Container runs with the stack's shared options, djstack-molecule-web-collectstatic",
        "collectstatic",
    ),
    (
        "Migrations have run and Django serves",
        "djstack",
        "Container runs with the stack's shared options, djstack-molecule-web-06463bb833",
        "start and health wait: djstack-molecule-web",
    ),
    (
        "Migrations have run and Django serves",
        "django_web",
        "New web container answers its health and readiness probes",
        "health wait",
    ),
    (
        "Migrations have run and Django serves",
        "nginx",
        "Nginx's web target names the new web container",
        "nginx switch",
    ),
    (
        "Celery workers and beat are healthy",
        "deploy",
        "Containers started by this deploy are healthy, or have stopped running",
        "health wait",
    ),
    (
        "Containers that stop between deploys come back",
        "deploy",
        "Watchdog is installed",
        "watchdog",
    ),
    ("Nginx serves the site", "nginx", "Maintenance page is current", "nginx: other tasks"),
]


@pytest.mark.parametrize(
    ("play", "role", "task", "step"), CASES, ids=[c[3] + ": " + c[2][:40] for c in CASES]
)
def test_each_task_counts_for_its_deploy_step(play: str, role: str, task: str, step: str) -> None:
    assert profile.step_of(play, role, task) == step


def play_names() -> list[str]:
    names = []
    for path in (ROOT / "playbooks").glob("*.yml"):
        names += [
            play.get("name", "")
            for play in yaml.safe_load(path.read_text()) or []
            if "hosts" in play
        ]
    return names


def task_names() -> set[str]:
    names = set()
    for path in ROOT.glob("roles/*/tasks/*.yml"):
        text = path.read_text()
        names.update(re.findall(r"- name: (.+)", text))
    return names


@pytest.mark.parametrize("case", CASES, ids=[c[2][:50] for c in CASES])
def test_the_plays_and_tasks_of_the_table_are_still_the_roles_own(case) -> None:
    """A renamed play or task would silently move its time to 'other': the table's names
    must be the playbooks' and roles' current ones (templated parts aside)."""
    play, _, task, _ = case
    assert play in play_names(), f"no play of playbooks/ is named {play!r}"
    fixed = re.split(
        r",? (?:for )?djstack-molecule|, for (?:migrate|check-project|collectstatic)$", task
    )[0]
    assert any(name.startswith(fixed) or fixed in name for name in task_names()), (
        f"no task of roles/ is named {task!r}"
    )


def test_the_profile_sums_per_play_and_step_and_prints_each() -> None:
    result = profile.Profile()
    result.add(
        "Every input is valid before any host changes",
        "djstack",
        "DEBUG stays off in production",
        1.5,
    )
    result.add(
        "PostgreSQL is healthy",
        "djstack",
        "Container runs with the stack's shared options, s-postgres",
        3.0,
    )
    result.add(
        "PostgreSQL is healthy",
        "djstack",
        "Container runs with the stack's shared options, s-postgres",
        1.0,
    )
    data = result.as_dict()
    assert data["total_s"] == 5.5
    assert data["plays"] == {
        "Every input is valid before any host changes": 1.5,
        "PostgreSQL is healthy": 4.0,
    }
    assert list(data["steps"]) == ["start and health wait: s-postgres", "validation"]
    assert data["step_tasks"] == {"validation": 1, "start and health wait: s-postgres": 2}
    text = "\n".join(result.lines())
    assert "DEPLOY PROFILE: 5.5 s in 3 tasks" in text
    assert "   4.00 s  72.7%  start and health wait: s-postgres (2 tasks)" in text


def test_a_release_containers_time_goes_to_the_steps_it_reports() -> None:
    output = (
        "djstack_app_settings_module: myproject.settings loads\n"
        "djstack-release: check-project took 0.80 s\n"
        "Operations to perform: ...\n"
        "djstack-release: migrate took 0.50 s\n"
        "djstack-release: collectstatic took 1.20 s\n"
    )
    split = profile.release_split(output)
    assert split == {"check-project": 0.8, "migrations": 0.5, "collectstatic": 1.2}
    result = profile.Profile()
    task = "Container runs with the stack's shared options, s-web-release"
    result.add("Migrations have run and Django serves", "djstack", task, 4.0, split)
    data = result.as_dict()
    assert data["total_s"] == 4.0
    assert data["steps"] == {
        "release container (start, Django's load)": 1.5,
        "collectstatic": 1.2,
        "check-project": 0.8,
        "migrations": 0.5,
    }
    text = "\n".join(result.lines())
    assert "   0.80 s  20.0%  check-project (inside the release container)" in text
    assert "   1.50 s  37.5%  release container (start, Django's load) (1 tasks)" in text
    assert profile.release_split("no such lines") == {}


PLAYBOOK = """
- name: Every input is valid before any host changes
  hosts: localhost
  gather_facts: false
  tasks:
    - name: DEBUG stays off in production
      ansible.builtin.command: sleep 0.3
      changed_when: false
"""


@pytest.mark.parametrize(
    "env", [{}, {"DJSTACK_PROFILE": "1"}, {"DJSTACK_PROFILE_JSON": "profile.json"}]
)
def test_a_run_with_ansible_cfg_profiles_only_when_asked(tmp_path, env: dict) -> None:
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "play.yml"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert ("DEPLOY PROFILE:" in run.stdout) == ("DJSTACK_PROFILE" in env)
    assert "deploy_profile" not in run.stdout + run.stderr, "the callback warned"
    written = tmp_path / "profile.json"
    assert written.exists() == ("DJSTACK_PROFILE_JSON" in env)
    if written.exists():
        data = json.loads(written.read_text())
        assert data["steps"]["validation"] >= 0.3
        assert list(data["plays"]) == ["Every input is valid before any host changes"]

"""The app image's `release` command (djstack_release.py): the steps of a new release in
one process, the project check first, migrations stopped for a backup when asked, and
each step timed or named as failed. Django's own steps are replaced by recorders here; the
Molecule scenarios run the real ones on every fresh and code-only deploy."""

import sys

from conftest import ROOT, load

sys.path.insert(0, str(ROOT / "roles/images/files/app/usr/local/lib/djstack"))
release = load("roles/images/files/app/usr/local/lib/djstack/djstack_release.py")


def recorder(ran: list[str], failing: str = "") -> dict:
    def step(name: str):
        def run() -> None:
            ran.append(name)
            if name == failing:
                raise RuntimeError(f"{name} fails on purpose")

        return run

    return {name: step(name) for name in ("check-project", "migrate", "collectstatic")}


def test_every_step_runs_once_in_order_and_reports_its_time(capsys) -> None:
    ran: list[str] = []
    status = release.run(
        ["collectstatic", "check-project", "migrate"],
        steps=recorder(ran),
        ready=lambda: ran.append("setup"),
    )
    assert status == 0
    assert ran == ["check-project", "collectstatic", "migrate"]
    out = capsys.readouterr().out
    assert "djstack-release: check-project took " in out and out.rstrip().endswith(" s")


def test_without_the_project_check_django_is_set_up_first() -> None:
    ran: list[str] = []
    assert release.run(["migrate"], steps=recorder(ran), ready=lambda: ran.append("setup")) == 0
    assert ran == ["setup", "migrate"]


def test_waiting_migrations_stop_the_run_for_a_backup_before_migrate(capsys) -> None:
    ran: list[str] = []
    status = release.run(
        ["check-project", "--backup-gate", "migrate", "collectstatic"],
        steps=recorder(ran),
        pending=lambda: ["core.0002_prices"],
    )
    assert status == release.BACKUP_FIRST == 3
    assert ran == ["check-project"]
    assert "1 migrations to apply (core.0002_prices): back up first" in capsys.readouterr().out
    ran.clear()
    status = release.run(
        ["--backup-gate", "migrate", "collectstatic"],
        steps=recorder(ran),
        pending=list,
        ready=lambda: None,
    )
    assert status == 0 and ran == ["migrate", "collectstatic"]


def test_a_failing_step_is_named_after_its_traceback_and_stops_the_rest(capsys) -> None:
    ran: list[str] = []
    status = release.run(
        ["migrate", "collectstatic"], steps=recorder(ran, failing="migrate"), ready=lambda: None
    )
    assert status == 1 and ran == ["migrate"]
    captured = capsys.readouterr()
    assert "migrate fails on purpose" in captured.err
    assert captured.out.rstrip().endswith("djstack-release: migrate failed")


def test_an_unknown_step_is_refused_naming_the_known_ones(capsys) -> None:
    assert release.run(["migrate", "compress"], steps=recorder([])) == 2
    assert "unknown step compress; known: check-project, migrate, collectstatic" in (
        capsys.readouterr().out
    )

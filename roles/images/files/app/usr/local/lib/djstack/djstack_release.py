"""A new release's one-shot steps in one process: the project check, then migrate and
collectstatic, loading Django once instead of once per step (each step was its own
container, and Python's start and the project's import were most of its time).

    djstack_release.py [check-project] [--backup-gate] [migrate] [collectstatic]

Each step prints `djstack-release: <step> took <seconds> s` (the deploy profile reads it)
or `djstack-release: <step> failed` and the process exits 1. With --backup-gate, migrations
waiting to be applied stop the run before migrate with exit 3, so the deploy can back the
database up and run the steps again.
"""

import sys
import time
import traceback
from collections.abc import Callable

BACKUP_FIRST = 3
MARK = "djstack-release:"


def check_project() -> None:
    from djstack_check import main

    if main() != 0:
        raise StepFailed


def pending_migrations() -> list[str]:
    """What `migrate --check` would report: the default database's unapplied migrations."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def command(name: str) -> Callable[[], None]:
    def run() -> None:
        from django.core.management import call_command

        call_command(name, interactive=False)

    return run


def setup() -> None:
    import django

    django.setup()


class StepFailed(Exception):
    """A step that printed its own reason."""


STEPS: dict[str, Callable[[], None]] = {
    "check-project": check_project,
    "migrate": command("migrate"),
    "collectstatic": command("collectstatic"),
}


def run(
    argv: list[str],
    steps: dict[str, Callable[[], None]] = STEPS,
    pending: Callable[[], list[str]] = pending_migrations,
    ready: Callable[[], None] = setup,
) -> int:
    gate = "--backup-gate" in argv
    names = [name for name in argv if name != "--backup-gate"]
    unknown = [name for name in names if name not in steps]
    if unknown:
        print(f"{MARK} unknown step {', '.join(unknown)}; known: {', '.join(steps)}")
        return 2
    # The project check sets Django up itself, naming a settings module that does not load;
    # without it, setting Django up is the first step.
    first = "check-project" if "check-project" in names else "django-setup"
    names = [first] + [name for name in names if name != "check-project"]
    steps = {**steps, "django-setup": ready}
    for name in names:
        if name == "migrate" and gate:
            waiting = pending()
            if waiting:
                print(
                    f"{MARK} {len(waiting)} migrations to apply ({', '.join(waiting)}): back up first"
                )
                return BACKUP_FIRST
        started = time.monotonic()
        try:
            steps[name]()
        except StepFailed:
            print(f"{MARK} {name} failed")
            return 1
        except BaseException:  # noqa: BLE001 - the step's own traceback is the report
            traceback.print_exc()
            print(f"{MARK} {name} failed")
            return 1
        print(f"{MARK} {name} took {time.monotonic() - started:.2f} s")
    return 0


if __name__ == "__main__":
    # Line by line, so a step's lines come before a traceback on stderr.
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(run(sys.argv[1:]))

"""Migrations ran once, completely, against the live PostgreSQL."""

import json


def test_migrate_check_finds_nothing_to_apply(docker, stack) -> None:
    docker("exec", stack.container("web"), "django-admin", "migrate", "--check")


def test_showmigrations_lists_nothing_unapplied(docker, stack) -> None:
    listing = docker("exec", stack.container("web"), "django-admin", "showmigrations")
    unapplied = [line.strip() for line in listing.splitlines() if "[ ]" in line]
    assert "[X]" in listing
    assert unapplied == []


def test_every_installed_app_has_its_tables_in_postgresql(django, docker, stack) -> None:
    expected = json.loads(
        django(
            "import json; from django.apps import apps\n"
            "print(json.dumps(sorted({m._meta.db_table for m in apps.get_models()"
            " if m._meta.managed})))"
        )
    )
    env = dict(
        item.split("=", 1)
        for item in json.loads(
            docker("inspect", "--format", "{{json .Config.Env}}", stack.container("postgres"))
        )
    )
    present = docker(
        "exec",
        stack.container("postgres"),
        "psql",
        "--username",
        env["POSTGRES_USER"],
        "--dbname",
        env["POSTGRES_DB"],
        "--no-align",
        "--tuples-only",
        "--command",
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    ).split()
    assert len(expected) > 5
    missing = sorted(set(expected) - set(present))
    assert missing == [], f"tables missing in PostgreSQL: {missing}"

"""Backups: taken, checksummed, kept by retention, scheduled, drilled and restored after the
database volume is destroyed; a corrupt backup is refused."""

import json
import re
import shlex

import pytest
from conftest import SERVICES, held, ok

ROWS = 2000
CHECKSUM_SQL = "SELECT count(*) || ':' || md5(string_agg(slug || '|' || title, ',' ORDER BY id)) FROM core_item"


@pytest.fixture(autouse=True)
def prod_only(stack) -> None:
    if stack.flavour != "prod":
        pytest.skip("backups are checked once, in the prod scenario")


@pytest.fixture(scope="module")
def psql(docker, stack):
    def run(sql: str) -> str:
        return docker(
            "exec",
            stack.container("postgres"),
            "psql",
            "-U",
            "app",
            "-d",
            "app",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-c",
            sql,
        ).strip()

    return run


@pytest.fixture(scope="module")
def backup_dir(stack) -> str:
    return f"/var/backups/djstack/{stack.name}"


def dumps(host, backup_dir: str) -> list[str]:
    return sorted(host.check_output(f"ls {backup_dir}").split())


def snapshot(docker, stack) -> list:
    names = [stack.container(service) for service in SERVICES]
    return [(c["Id"], c["State"]["StartedAt"]) for c in json.loads(docker("inspect", *names))]


def test_backup_survives_losing_the_database_volume(
    host, docker, psql, playbook, http, stack, backup_dir
) -> None:
    psql("DELETE FROM core_item WHERE slug LIKE 'backup-%'")
    psql(
        "INSERT INTO core_item (slug, title) SELECT 'backup-' || n, md5(n::text) "
        f"FROM generate_series(1, {ROWS}) AS n"
    )
    before = psql(CHECKSUM_SQL)
    assert before.startswith(f"{ROWS}:") or int(before.split(":")[0]) >= ROWS

    taken = ok(playbook("playbooks/backup.yml"))
    name = re.search(rf"{re.escape(stack.name)}-\d{{8}}T\d{{6}}Z-[0-9a-f]+\.dump", taken).group(0)
    files = dumps(host, backup_dir)
    assert name in files and f"{name}.sha256" in files
    checksum = host.check_output(f"cd {backup_dir} && sha256sum --check {name}.sha256")
    assert checksum.endswith("OK")

    # The drill restores into a scratch database and leaves the live one alone.
    drill = ok(playbook("playbooks/backup-verify.yml"))
    assert f'"core_item": {before.split(":")[0]}' in drill, drill[-2000:]
    assert psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_drill%'") == "0"

    refused = playbook("playbooks/restore.yml")
    assert refused.returncode != 0
    assert f"Confirm with -e postgres_restore_confirm={stack.name}" in refused.stdout

    docker("rm", "--force", stack.container("postgres"))
    docker("volume", "rm", f"{stack.name}-pgdata")
    ok(playbook("site.yml"))
    assert psql("SELECT count(*) FROM pg_tables WHERE tablename = 'core_item'") == "0"

    restored = ok(playbook("playbooks/restore.yml", "-e", f"postgres_restore_confirm={stack.name}"))
    assert psql(CHECKSUM_SQL) == before, "restored rows differ from the backed-up ones"
    assert '"after"' in restored and '"before"' in restored
    assert psql("SELECT count(*) FROM django_migrations WHERE app = 'core'") != "0"
    assert http("/readyz").status == 200


def test_corrupt_backup_is_refused_and_nothing_changes(
    host, docker, playbook, stack, backup_dir
) -> None:
    newest = [f for f in dumps(host, backup_dir) if f.endswith(".dump")][-1]
    corrupt = re.sub(r"-(\d{8})T(\d{6})Z-", "-20000101T000000Z-", newest)
    path = f"{backup_dir}/{corrupt}"
    host.run_test(
        f"cp {backup_dir}/{newest} {path} && sed 's/{newest}/{corrupt}/' {backup_dir}/{newest}.sha256 > {path}.sha256"
        f" && printf 'X' | dd of={path} bs=1 seek=100 conv=notrunc status=none"
    )
    try:
        before = snapshot(docker, stack)
        result = playbook(
            "playbooks/restore.yml",
            "-e",
            f"postgres_restore_confirm={stack.name}",
            "-e",
            f"postgres_backup_name={corrupt}",
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert f"checksum mismatch for {path}" in output, output[-2000:]
        assert snapshot(docker, stack) == before, "a container changed"
    finally:
        host.run(f"rm -f {shlex.quote(path)} {shlex.quote(path)}.sha256")


def test_retention_keeps_the_newest_of_each_recent_day_and_week(host, stack, backup_dir) -> None:
    """3 last, 7 daily and 4 weekly, against a month of dated backups (empty stand-ins)."""
    dated = [
        "20261124T031500Z", "20261124T120000Z", "20261123T031500Z", "20261122T031500Z",
        "20261121T031500Z", "20261120T031500Z", "20261119T031500Z", "20261118T031500Z",
        "20261117T031500Z", "20261116T031500Z", "20261109T031500Z", "20261108T031500Z",
        "20261101T031500Z", "20261025T031500Z", "20261018T031500Z",
    ]  # fmt: skip
    scratch = f"/tmp/djstack-retention-{stack.name}"
    names = [f"{stack.name}-{stamp}-r1.dump" for stamp in dated]
    config = json.loads(host.file(f"/etc/djstack/{stack.name}/backup.json").content_string)
    config.update(backup_dir=scratch, keep_last=3, keep_daily=7, keep_weekly=4)
    host.run_test(f"rm -rf {scratch} && mkdir -p {scratch}")
    try:
        for name in [*names, "unrelated.dump", "other-stack-20200101T000000Z-r1.dump"]:
            host.run_test(f"touch {scratch}/{name} {scratch}/{name}.sha256")
        host.run_test(f"echo {shlex.quote(json.dumps(config))} > {scratch}.json")
        host.run_test(f"/usr/local/sbin/djstack-pgbackup --config {scratch}.json prune")
        left = sorted(host.check_output(f"ls {scratch}").split())
    finally:
        host.run(f"rm -rf {scratch} {scratch}.json")
    # Last 3: both of 24 Nov and 23 Nov. Days: 24 Nov (12:00), 23, 22, 21, 20, 19, 18. ISO
    # weeks: 48 and 47 are kept already (24 and 22 Nov); 46 keeps 9 Nov, 45 keeps 8 Nov.
    # 17 and 16 Nov (week 47, older than its newest), 1 Nov and October go.
    kept = {"20261124T120000Z", "20261124T031500Z", "20261123T031500Z", "20261122T031500Z", "20261121T031500Z",
            "20261120T031500Z", "20261119T031500Z", "20261118T031500Z", "20261109T031500Z",
            "20261108T031500Z"}  # fmt: skip
    expected = sorted(
        [f"{stack.name}-{s}-r1.dump{ext}" for s in kept for ext in ("", ".sha256")]
        + ["unrelated.dump", "unrelated.dump.sha256", "other-stack-20200101T000000Z-r1.dump"]
        + ["other-stack-20200101T000000Z-r1.dump.sha256"]
    )
    assert left == expected


def test_daily_backup_is_scheduled_and_a_failure_is_visible(
    host, docker, stack, backup_dir
) -> None:
    if host.file("/run/systemd/system").is_directory:
        timer = host.run(f"systemctl is-enabled djstack-backup-{stack.name}.timer")
        assert timer.stdout.strip() == "enabled"
        job = f"systemctl start djstack-backup-{stack.name}.service"
    else:
        entry = host.file(f"/etc/cron.d/djstack-backup-{stack.name}").content_string
        line = next(line for line in entry.splitlines() if line and not line.startswith("#"))
        assert line.startswith("15 3 * * * root "), line
        job = line.split(" root ", 1)[1]
    log = f"/var/log/djstack/backup-{stack.name}.log"

    newest = dumps(host, backup_dir)[-2:]
    assert host.run(job).rc == 0
    assert dumps(host, backup_dir)[-2:] != newest, "the scheduled job wrote no backup"
    assert (
        "backup OK" in host.file(log).content_string.splitlines()[-1]
        or "backup OK" in host.file(log).content_string
    )

    with held(host, docker, stack, "postgres"):
        assert host.run(job).rc != 0, "a failed backup exited 0"
        assert "backup FAILED" in host.file(log).content_string.splitlines()[-1]
    host.run_test(
        f"timeout 60 sh -c 'until docker exec {stack.container('postgres')} pg_isready -q; do sleep 1; done'"
    )

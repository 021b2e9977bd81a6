"""Backup and restore times of a deployed stack's database with many rows.

Fills core_item of the stack's database with --rows rows (default 200,000), then times,
--repeat times each, djstack-pgbackup's backup (pg_dump -Fc, checksum, retention), drill
(restore into a scratch database and count) and restore (drop, recreate, pg_restore into the
live database), and prints min / median / max with the dump's size. The bench rows are
deleted at the end. Run it against the dev stack after `make deploy`:

    .venv/bin/python bench/backup_restore.py --stack djstack-dev
"""

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path


def psql(container: str, sql: str) -> str:
    command = [
        "docker",
        "exec",
        container,
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
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def timed(command: list[str]) -> tuple[float, dict]:
    started = time.monotonic()
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return time.monotonic() - started, json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="djstack-dev")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    container = f"{args.stack}-postgres"
    tool = [
        "/usr/local/sbin/djstack-pgbackup",
        "--config",
        f"/etc/djstack/{args.stack}/backup.json",
    ]
    psql(container, "DELETE FROM core_item WHERE slug LIKE 'bench-%'")
    psql(
        container,
        "INSERT INTO core_item (slug, title) SELECT 'bench-' || n, md5(n::text) || md5((n * 7)::text) "
        f"FROM generate_series(1, {args.rows}) AS n",
    )
    rows = int(psql(container, "SELECT count(*) FROM core_item"))
    times: dict[str, list[float]] = {"backup": [], "drill": [], "restore": []}
    size = 0
    try:
        for _ in range(args.repeat):
            seconds, result = timed([*tool, "backup"])
            times["backup"].append(seconds)
            size = Path(result["backup"]).stat().st_size
            for action in ("drill", "restore"):
                seconds, result = timed([*tool, action, "latest"])
                times[action].append(seconds)
            restored = result["after"]["core_item"]
            assert restored == rows, f"restore gave {restored} rows of core_item, expected {rows}"
    finally:
        psql(container, "DELETE FROM core_item WHERE slug LIKE 'bench-%'")

    print(f"core_item rows: {rows}; dump size: {size / 1e6:.1f} MB; {args.repeat} runs each")
    print("| action | min s | median s | max s |")
    print("| --- | --- | --- | --- |")
    for action, values in times.items():
        print(
            f"| {action} | {min(values):.2f} | {statistics.median(values):.2f} | {max(values):.2f} |"
        )


if __name__ == "__main__":
    main()

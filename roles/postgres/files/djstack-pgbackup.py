#!/usr/bin/python3
"""PostgreSQL backups of one djstack stack: take, list, verify, prune, drill and restore.

Installed by the postgres role as /usr/local/sbin/djstack-pgbackup and run by the backup,
restore and backup-verify playbooks, by the scheduled job, and before a prod migration.
Every PostgreSQL client runs in a one-shot container of the stack's own PostgreSQL image,
so the dump and restore tools always match the server's version. The password is read from
the stack's secret file inside that container, so it is in no argument or environment of
any process on the host nor in `docker inspect`.

Backups are <stack>-<UTC time>-<release>.dump (pg_dump custom format) with a sha256sum-style
<name>.sha256 beside it; only files of that form for this stack are ever deleted. Where the
stack's uploads live on this host (media_volume), each backup also holds them as
<stack>-<UTC time>-<release>.media.tar with its own .sha256, and a restore puts them back.
"""

import argparse
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(Exception):
    """A failure the operator must see: printed as one 'FAILED' line, exit status 1."""


def backup_pattern(stack: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(stack)}-(\d{{8}}T\d{{6}}Z)-([A-Za-z0-9._-]+)\.dump$")


def backups(directory: Path, stack: str) -> list[tuple[dt.datetime, Path]]:
    """This stack's backups in directory, newest first."""
    pattern = backup_pattern(stack)
    found = []
    for path in directory.iterdir():
        match = pattern.match(path.name)
        if match:
            taken = dt.datetime.strptime(match.group(1), STAMP).replace(tzinfo=dt.UTC)
            found.append((taken, path))
    return sorted(found, reverse=True)


def expired(
    taken: list[dt.datetime], keep_last: int, keep_daily: int, keep_weekly: int
) -> set[dt.datetime]:
    """Times of backups that retention deletes. It keeps the keep_last newest backups (at
    least one), the newest backup of each of the keep_daily most recent days that have one,
    and the newest of each of the keep_weekly most recent ISO weeks that have one."""
    newest_first = sorted(taken, reverse=True)
    kept: set[dt.datetime] = set(newest_first[: max(keep_last, 1)])
    for period, count in (
        (lambda t: t.date(), keep_daily),
        (lambda t: t.isocalendar()[:2], keep_weekly),
    ):
        seen: list = []
        for moment in newest_first:
            key = period(moment)
            if key not in seen:
                seen.append(key)
                if len(seen) > count:
                    break
                kept.add(moment)
    return set(newest_first) - kept


def media_of(dump: Path) -> Path:
    """The archive of the uploads taken with a dump."""
    return dump.with_name(dump.name.removesuffix(".dump") + ".media.tar")


def checksum_of(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Stack:
    def __init__(self, config: dict) -> None:
        self.config = config
        self.name = config["stack"]
        self.directory = Path(config["backup_dir"])

    def client(self, script: str, *args: str, mounts: bool = True) -> str:
        """Run a shell script with PostgreSQL's client tools in a one-shot container of the
        server's image, on the stack network, logged in as the app's database user."""
        c = self.config
        command = ["docker", "run", "--rm", "--network", c["network"], "--user", str(c["uid"])]
        command += [
            "--label",
            f"io.djstack.stack={self.name}",
            "--label",
            "io.djstack.service=backup",
        ]
        command += ["--security-opt", "no-new-privileges", "--cap-drop", "ALL"]
        command += ["-v", f"{c['secrets_dir']}:/run/secrets:ro"]
        if mounts:
            command += ["-v", f"{self.directory}:/backups"]
        command += [
            "-e",
            f"PGHOST={c['host']}",
            "-e",
            f"PGPORT={c.get('port', 5432)}",
            "-e",
            f"PGUSER={c['user']}",
            "-e",
            f"PGDATABASE={c['database']}",
        ]
        command += ["--entrypoint", "sh", c["image"], "-c"]
        command += [
            'PGPASSWORD="$(cat /run/secrets/postgres_password)"; export PGPASSWORD; ' + script
        ]
        command += ["client", *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BackupError(result.stderr.strip()[-800:] or f"exit {result.returncode}")
        return result.stdout

    def create(self, database: str) -> None:
        """Create database, owned by the app's role, with the stack's extensions. The app's
        role may not create databases: the superuser does, over the server container's
        local socket (it has no password and no network login)."""
        c = self.config
        script = 'CREATE DATABASE :"db" OWNER :"owner";\n'
        script += "".join(
            f'\\c :"db"\nCREATE EXTENSION IF NOT EXISTS "{e}";\n' for e in c.get("extensions", [])
        )
        command = ["docker", "exec", "-i", c["container"], "psql", "--no-psqlrc", "--quiet"]
        command += ["--set", "ON_ERROR_STOP=1", "--username", c.get("superuser", "postgres")]
        command += [
            "--dbname",
            "postgres",
            "--set",
            f"db={database}",
            "--set",
            f"owner={c['user']}",
        ]
        result = subprocess.run(command, input=script, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BackupError(result.stderr.strip()[-800:] or f"exit {result.returncode}")

    def media(self, script: str, stdin: object = None, stdout: object = None) -> None:
        """Run a shell script in a one-shot container of the server's image with the uploads
        volume at /media, as the app's user, with no network; stdin and stdout are files."""
        c = self.config
        command = ["docker", "run", "--rm", "--interactive", "--network", "none"]
        command += ["--user", str(c["app_uid"]), "--security-opt", "no-new-privileges"]
        command += ["--cap-drop", "ALL", "--label", f"io.djstack.stack={self.name}"]
        # volume-nocopy: mounting an empty volume where the image has a directory (/media is
        # in every Debian root) would otherwise give the volume that directory's owner, root.
        command += ["--label", "io.djstack.service=backup", "--mount"]
        command += [f"type=volume,source={c['media_volume']},target=/media,volume-nocopy"]
        command += ["--entrypoint", "sh", c["image"], "-c", script]
        result = subprocess.run(
            command,
            stdin=stdin or subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            check=False,
        )
        if result.returncode != 0:
            error = result.stderr.decode(errors="replace").strip()[-800:]
            raise BackupError(
                f"uploads ({c['media_volume']}): {error or f'exit {result.returncode}'}"
            )

    def release(self) -> str:
        """Release the stack's web container serves now: the tag of its image (the app's
        input hash), or 'norelease' when there is none."""
        result = subprocess.run(
            [
                "docker",
                "ps",
                "--all",
                "--format",
                "{{.Image}}",
                "--filter",
                f"label=io.djstack.stack={self.name}",
            ]
            + ["--filter", "label=io.djstack.service=web"],
            capture_output=True,
            text=True,
            check=False,
        )
        images = result.stdout.split() if result.returncode == 0 else []
        tag = images[0].rpartition(":")[2] if images else ""
        return re.sub(r"[^A-Za-z0-9._-]", "", tag) or "norelease"

    def find(self, name: str) -> Path:
        if name == "latest":
            found = backups(self.directory, self.name)
            if not found:
                raise BackupError(f"no backup of {self.name} in {self.directory}")
            return found[0][1]
        path = self.directory / Path(name).name
        if not backup_pattern(self.name).match(path.name) or not path.is_file():
            raise BackupError(
                f"{path} is not a backup of {self.name} (see `djstack-pgbackup list`)"
            )
        return path

    def verify(self, path: Path) -> None:
        """The dump, and the archive of the uploads where the stack has them, match their
        checksums."""
        files = [path]
        if self.config.get("media_volume"):
            if not media_of(path).is_file():
                raise BackupError(
                    f"{media_of(path)} is missing: {path.name} has no uploads to restore"
                )
            files.append(media_of(path))
        for file in files:
            checksum = checksum_of(file)
            if not checksum.is_file():
                raise BackupError(f"{checksum} is missing: {file.name} cannot be trusted")
            expected = checksum.read_text().split()[0]
            if sha256(file) != expected:
                raise BackupError(
                    f"checksum mismatch for {file}: the file is corrupt or changed; nothing was restored"
                )

    def counts(self, database: str) -> dict[str, int]:
        """Exact row count of every table in the public schema of database."""
        query = (
            "SELECT format('SELECT %L, count(*) FROM public.%I', table_name, table_name) "
            "FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        script = r"""printf '%s\n\\gexec\n' "$2" | psql -X -v ON_ERROR_STOP=1 -At -F ' ' -d "$1" """
        output = self.client(script, database, query, mounts=False)
        return {
            table: int(count)
            for table, count in (line.rsplit(" ", 1) for line in output.splitlines() if line)
        }

    def backup(self) -> Path:
        now = dt.datetime.now(dt.UTC)
        name = f"{self.name}-{now.strftime(STAMP)}-{self.release()}.dump"
        partial = self.directory / (name + ".partial")
        started = time.monotonic()
        media = media_of(self.directory / name)
        media_partial = media.with_name(media.name + ".partial")
        try:
            self.client('pg_dump --format=custom --file="/backups/$1"', partial.name)
            if self.config.get("media_volume"):
                with media_partial.open("wb") as archive:
                    self.media("tar -C /media -cf - .", stdout=archive)
                media_partial.rename(media)
                checksum_of(media).write_text(f"{sha256(media)}  {media.name}\n")
            path = partial.rename(self.directory / name)
        finally:
            partial.unlink(missing_ok=True)
            media_partial.unlink(missing_ok=True)
        checksum_of(path).write_text(f"{sha256(path)}  {name}\n")
        size = sum(p.stat().st_size for p in (path, media) if p.is_file())
        log(f"backup OK {path} {size} bytes in {time.monotonic() - started:.1f} s")
        return path

    def prune(self) -> list[Path]:
        found = dict(backups(self.directory, self.name))
        c = self.config
        doomed = expired(list(found), c["keep_last"], c["keep_daily"], c["keep_weekly"])
        removed = []
        for moment in sorted(doomed):
            dump = found[moment]
            for path in (dump, checksum_of(dump), media_of(dump), checksum_of(media_of(dump))):
                if path.is_file():
                    path.unlink()
                    removed.append(path)
        if removed:
            log(f"retention removed {', '.join(p.name for p in removed)}")
        return removed

    def drill(self, path: Path) -> dict[str, int]:
        """Restore path into a scratch database beside the live one, count its rows, drop it."""
        self.verify(path)
        scratch = f"{self.config['database']}_restore_drill"
        self.client('dropdb --if-exists "$1"', scratch, mounts=False)
        self.create(scratch)
        self.client(
            'pg_restore --no-owner --exit-on-error -d "$1" "/backups/$2"', scratch, path.name
        )
        try:
            counts = self.counts(scratch)
        finally:
            self.client('dropdb --if-exists "$1"', scratch, mounts=False)
        if self.config.get("media_volume"):
            with tarfile.open(media_of(path)) as archive:
                counts["uploads (files)"] = sum(1 for member in archive if member.isfile())
        return counts

    def restore(self, path: Path) -> dict[str, dict[str, int]]:
        """Replace the live database by a fresh one restored from path (app containers must be
        stopped: dropdb --force ends any session left)."""
        self.verify(path)
        database = self.config["database"]
        before = self.counts(database)
        started = time.monotonic()
        self.client('dropdb --force "$1"', database, mounts=False)
        self.create(database)
        self.client(
            'pg_restore --no-owner --exit-on-error -d "$1" "/backups/$2"', database, path.name
        )
        if self.config.get("media_volume"):
            with media_of(path).open("rb") as archive:
                self.media("find /media -mindepth 1 -delete && tar -C /media -xf -", stdin=archive)
        log(f"restore OK {path} into {database} in {time.monotonic() - started:.1f} s")
        return {"before": before, "after": self.counts(database)}


def log(message: str) -> None:
    print(
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} djstack-pgbackup: {message}",
        file=sys.stderr,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, type=Path, help="the stack's backup.json")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("backup", help="dump the database, write its checksum, apply retention")
    sub.add_parser("list", help="list backups, newest first")
    sub.add_parser("prune", help="apply retention")
    for action in ("verify", "drill", "restore"):
        sub.add_parser(action).add_argument("backup", nargs="?", default="latest")
    sub.add_parser("counts", help="row count of every table of the live database")
    args = parser.parse_args()

    stack = Stack(json.loads(args.config.read_text()))
    try:
        if args.action == "backup":
            path = stack.backup()
            result: object = {"backup": str(path), "removed": [str(p) for p in stack.prune()]}
        elif args.action == "list":
            result = [
                {"backup": str(p), "taken": t.isoformat(), "bytes": p.stat().st_size}
                for t, p in backups(stack.directory, stack.name)
            ]
        elif args.action == "prune":
            result = {"removed": [str(p) for p in stack.prune()]}
        elif args.action == "verify":
            path = stack.find(args.backup)
            stack.verify(path)
            result = {"backup": str(path), "checksum": "ok"}
        elif args.action == "drill":
            path = stack.find(args.backup)
            result = {"backup": str(path), "counts": stack.drill(path)}
        elif args.action == "restore":
            path = stack.find(args.backup)
            result = {"backup": str(path), **stack.restore(path)}
        else:
            result = stack.counts(stack.config["database"])
    except BackupError as error:
        log(f"{args.action} FAILED: {error}")
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

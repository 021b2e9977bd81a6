"""djstack-pgbackup: retention, the backups it recognises, checksums."""

import datetime as dt

import pytest
from conftest import load

pgbackup = load("roles/postgres/files/djstack-pgbackup.py")
UTC = dt.UTC


def at(day: int, hour: int = 3) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def test_retention_keeps_the_newest_each_recent_day_and_each_recent_week() -> None:
    taken = [at(day, hour) for day in range(1, 31) for hour in (3, 15)]
    expired = pgbackup.expired(taken, keep_last=3, keep_daily=7, keep_weekly=4)
    kept = sorted(set(taken) - expired, reverse=True)
    assert kept[:3] == [at(30, 15), at(30, 3), at(29, 15)]
    assert {t.date() for t in kept} >= {at(day).date() for day in range(24, 31)}
    assert len({t.isocalendar()[:2] for t in kept}) == 4
    # 30 November 2026 is a Monday: the weeks before it end on the 29th, 22nd and 15th.
    assert sorted(set(kept) - {at(30, 3)} - {at(day, 15) for day in range(24, 31)}) == [
        at(15, 15),
        at(22, 15),
    ]
    assert len(kept) == 10


def test_retention_always_keeps_at_least_the_newest_backup() -> None:
    taken = [at(1), at(2)]
    assert pgbackup.expired(taken, keep_last=0, keep_daily=0, keep_weekly=0) == {at(1)}


def test_only_this_stacks_backups_are_recognised_newest_first(tmp_path) -> None:
    for name in (
        "s-20261101T031500Z-abc.dump",
        "s-20261102T031500Z-def.dump",
        "other-20261103T031500Z-abc.dump",
        "s-20261104T031500Z-abc.dump.sha256",
        "s-notes.txt",
    ):
        (tmp_path / name).write_text("x")  # fmt: skip
    found = [path.name for _, path in pgbackup.backups(tmp_path, "s")]
    assert found == ["s-20261102T031500Z-def.dump", "s-20261101T031500Z-abc.dump"]


def test_a_backup_whose_checksum_differs_is_refused(tmp_path) -> None:
    stack = pgbackup.Stack({"stack": "s", "backup_dir": str(tmp_path)})
    dump = tmp_path / "s-20261101T031500Z-abc.dump"
    dump.write_bytes(b"dump")
    with pytest.raises(pgbackup.BackupError, match="is missing"):
        stack.verify(dump)
    (tmp_path / (dump.name + ".sha256")).write_text(f"{pgbackup.sha256(dump)}  {dump.name}\n")
    stack.verify(dump)
    dump.write_bytes(b"corrupt")
    with pytest.raises(pgbackup.BackupError, match="checksum mismatch"):
        stack.verify(dump)


def test_a_name_that_is_not_a_backup_of_the_stack_is_refused(tmp_path) -> None:
    stack = pgbackup.Stack({"stack": "s", "backup_dir": str(tmp_path)})
    with pytest.raises(pgbackup.BackupError, match="not a backup of s"):
        stack.find("../etc/passwd")
    with pytest.raises(pgbackup.BackupError, match="no backup of s"):
        stack.find("latest")


def test_with_uploads_a_backup_is_trusted_only_with_its_archive_and_both_checksums(
    tmp_path,
) -> None:
    stack = pgbackup.Stack({"stack": "s", "backup_dir": str(tmp_path), "media_volume": "s-media"})
    dump = tmp_path / "s-20261101T031500Z-abc.dump"
    media = tmp_path / "s-20261101T031500Z-abc.media.tar"
    assert pgbackup.media_of(dump) == media
    for path in (dump, media):
        path.write_bytes(path.suffix.encode())
        pgbackup.checksum_of(path).write_text(f"{pgbackup.sha256(path)}  {path.name}\n")
    stack.verify(dump)
    media.write_bytes(b"changed")
    with pytest.raises(pgbackup.BackupError, match=r"checksum mismatch for .*media\.tar"):
        stack.verify(dump)
    media.unlink()
    with pytest.raises(pgbackup.BackupError, match="has no uploads to restore"):
        stack.verify(dump)


def test_retention_removes_a_backups_uploads_and_their_checksum_with_it(tmp_path) -> None:
    config = {
        "stack": "s",
        "backup_dir": str(tmp_path),
        "keep_last": 1,
        "keep_daily": 0,
        "keep_weekly": 0,
    }
    stack = pgbackup.Stack(config)
    for stamp in ("20261101T031500Z", "20261102T031500Z"):
        for suffix in (".dump", ".dump.sha256", ".media.tar", ".media.tar.sha256"):
            (tmp_path / f"s-{stamp}-abc{suffix}").write_text("x")
    (tmp_path / "s-notes.media.tar").write_text("not a backup's")
    removed = sorted(path.name for path in stack.prune())
    assert removed == [
        f"s-20261101T031500Z-abc{suffix}"
        for suffix in (".dump", ".dump.sha256", ".media.tar", ".media.tar.sha256")
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "s-20261102T031500Z-abc.dump", "s-20261102T031500Z-abc.dump.sha256", "s-20261102T031500Z-abc.media.tar",
        "s-20261102T031500Z-abc.media.tar.sha256", "s-notes.media.tar",
    ]  # fmt: skip

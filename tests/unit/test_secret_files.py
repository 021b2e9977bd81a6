"""The secret files module: one call writes only what differs, with the modes and owner."""

import os
import stat

from conftest import load

secret_files = load("roles/djstack/library/djstack_secret_files.py")
OWNER = os.getuid()


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_missing_directory_gets_every_file_readable_by_its_owner_only(tmp_path) -> None:
    target = tmp_path / "secrets"
    files = [{"name": "postgres_password", "value": "s3cret"}, {"name": "users.acl", "value": "x"}]
    directory, names = secret_files.stale(str(target), OWNER, files)
    assert (directory, names) == (True, ["postgres_password", "users.acl"])
    secret_files.write(str(target), OWNER, files, names)
    assert (target / "postgres_password").read_text() == "s3cret"
    assert (mode(target), mode(target / "users.acl")) == (0o500, 0o400)
    assert secret_files.stale(str(target), OWNER, files) == (False, [])
    assert sorted(os.listdir(target)) == ["postgres_password", "users.acl"]


def test_only_a_changed_or_loosened_file_is_written_again(tmp_path) -> None:
    target = tmp_path / "secrets"
    files = [
        {"name": "a", "value": "one"},
        {"name": "b", "value": "two"},
        {"name": "c", "value": "3"},
    ]
    secret_files.write(str(target), OWNER, files, ["a", "b", "c"])
    os.chmod(target / "c", 0o644)
    changed = [
        {"name": "a", "value": "one"},
        {"name": "b", "value": "TWO"},
        {"name": "c", "value": "3"},
    ]
    assert secret_files.stale(str(target), OWNER, changed) == (False, ["b", "c"])
    before = os.stat(target / "a").st_ino
    secret_files.write(str(target), OWNER, changed, ["b", "c"])
    assert (target / "b").read_text() == "TWO"
    assert mode(target / "c") == 0o400
    assert os.stat(target / "a").st_ino == before


def test_a_directory_of_another_owner_or_mode_is_fixed(tmp_path) -> None:
    target = tmp_path / "secrets"
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    assert secret_files.stale(str(target), OWNER, []) == (True, [])
    assert secret_files.stale(str(target), OWNER + 1, []) == (True, [])
    secret_files.write(str(target), OWNER, [], [])
    assert mode(target) == 0o500

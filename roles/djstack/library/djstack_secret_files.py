"""Writes one service's secret files in one module call: the directory, readable only by the
uid the service's container runs as, and each file that differs from its secret (content,
mode 0400 or owner). A copy task per file costs two module calls each on every run.

    - name: PostgreSQL password file holds djstack_postgres_password
      djstack_secret_files:
        path: /var/lib/djstack/app/postgres/secrets
        owner: 999
        files:
          - {name: postgres_password, value: "{{ djstack_postgres_password }}"}
      no_log: true

Returns the names of the files written (never their values) as `written`.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: djstack_secret_files
short_description: A service's secret files hold the current secrets, readable by its uid only
description:
  - Creates the directory (mode 0500) and writes each file (mode 0400) owned by O(owner),
    atomically, when its content, mode or owner differs. Files not listed are left alone.
options:
  path: {description: Directory of the secret files., type: path, required: true}
  owner: {description: Uid the service's container runs as., type: int, required: true}
  files:
    description: The secrets, one file each.
    type: list
    elements: dict
    required: true
    options:
      name: {description: File name inside O(path)., type: str, required: true}
      value: {description: The secret., type: str, required: true, no_log: true}
"""

RETURN = r"""
written: {description: Names of the files written (or that would be, in check mode)., type: list, returned: always}
"""

DIR_MODE = 0o500
FILE_MODE = 0o400


def stale(path: str, owner: int, files: list[dict]) -> tuple[bool, list[str]]:
    """Whether the directory needs creating or fixing, and the names of the files that differ
    from their secrets."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return True, [f["name"] for f in files]
    directory = info.st_uid != owner or stat.S_IMODE(info.st_mode) != DIR_MODE
    differ = []
    for secret in files:
        target = os.path.join(path, secret["name"])
        try:
            current = os.stat(target)
            with open(target, "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            differ.append(secret["name"])
            continue
        if (
            current.st_uid != owner
            or stat.S_IMODE(current.st_mode) != FILE_MODE
            or content != secret["value"].encode()
        ):
            differ.append(secret["name"])
    return directory, differ


def write(path: str, owner: int, files: list[dict], names: list[str]) -> None:
    os.makedirs(path, exist_ok=True)
    os.chown(path, owner, -1)
    os.chmod(path, DIR_MODE)
    for secret in files:
        if secret["name"] not in names:
            continue
        # Written beside its target and renamed over it: a reader sees the old secret or the
        # new one, never a half-written file.
        handle, temporary = tempfile.mkstemp(dir=path, prefix=f".{secret['name']}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(secret["value"].encode())
            os.chmod(temporary, FILE_MODE)
            os.chown(temporary, owner, -1)
            os.replace(temporary, os.path.join(path, secret["name"]))
        except BaseException:
            os.unlink(temporary)
            raise


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "owner": {"type": "int", "required": True},
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "value": {"type": "str", "required": True, "no_log": True},
                },
            },
        },
        supports_check_mode=True,
    )
    path, owner, files = (module.params[key] for key in ("path", "owner", "files"))
    for secret in files:
        if os.sep in secret["name"] or secret["name"] in ("", ".", ".."):
            module.fail_json(msg=f"files: '{secret['name']}' is not a file name")
    directory, names = stale(path, owner, files)
    if (directory or names) and not module.check_mode:
        write(path, owner, files, names)
    module.exit_json(changed=bool(directory or names), written=names)


if __name__ == "__main__":
    main()

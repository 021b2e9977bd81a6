"""Fingerprint of what a deploy is made from, computed on the control node.

`value_digest` hashes the value of every variable some role declares in meta/argument_specs.yml
(as this host resolves it, templates and vault included), the names of every variable with
a role's prefix (so a new, misspelled one counts too), the inventory's groups and the host's
connection. `file_digest` hashes the content and mode of the files and directories given. An
unchanged rerun compares both with what the last complete deploy recorded on the host
(roles/deploy/tasks/unchanged.yml).
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

import yaml
from ansible.plugins.action import ActionBase

CONNECTION = ("inventory_hostname", "ansible_host", "ansible_port", "ansible_user")


def declared(roles_dir: str) -> set[str]:
    """Option names of every entry point of every role's meta/argument_specs.yml."""
    names: set[str] = set()
    for spec_file in sorted(glob.glob(os.path.join(roles_dir, "*", "meta", "argument_specs.yml"))):
        with open(spec_file, encoding="utf-8") as spec:
            entry_points = (yaml.safe_load(spec) or {}).get("argument_specs") or {}
        for entry in entry_points.values():
            names.update((entry or {}).get("options") or {})
    return names


def prefixes(roles_dir: str) -> tuple[str, ...]:
    return tuple(
        os.path.basename(os.path.dirname(role)) + "_"
        for role in sorted(glob.glob(os.path.join(roles_dir, "*", "")))
    )


def files_digest(paths: Iterable[Any]) -> str:
    """Digest of the files and directories given, as paths or {path, exclude} mappings:
    each file's name relative to its root's parent, its mode and its content; a missing
    path counts as missing."""
    digest = hashlib.sha256()
    for item in paths:
        path, exclude = (item, []) if isinstance(item, str) else (item["path"], item["exclude"])
        hash_path(digest, os.path.normpath(str(path)), [str(name) for name in exclude])
    return digest.hexdigest()


def hash_path(digest: Any, path: str, exclude: list[str]) -> None:
    def kept(name: str) -> bool:
        return not any(fnmatch.fnmatch(name, pattern) for pattern in exclude)

    if os.path.isfile(path):
        files = [path]
    elif os.path.isdir(path):
        files = []
        for top, dirs, names in os.walk(path, followlinks=True):
            dirs[:] = sorted(d for d in dirs if kept(d))
            files.extend(os.path.join(top, name) for name in sorted(names) if kept(name))
    else:
        digest.update(f"missing {path}\n".encode())
        return
    for name in files:
        mode = os.stat(name).st_mode & 0o777
        digest.update(f"{os.path.relpath(name, os.path.dirname(path))} {mode:o}\n".encode())
        with open(name, "rb") as content:
            digest.update(hashlib.sha256(content.read()).digest())


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        roles_dir = str(args["roles_dir"])
        exclude = [str(name) for name in args.get("exclude", [])]
        paths = [
            {"path": self._resolved(item), "exclude": exclude}
            if isinstance(item, str)
            else {"path": item["path"], "exclude": exclude + list(item.get("exclude") or [])}
            for item in args.get("paths", [])
        ]

        values = {
            name: self._resolved(task_vars[name])
            for name in declared(roles_dir)
            if name in task_vars
        }
        values["names"] = sorted(name for name in task_vars if name.startswith(prefixes(roles_dir)))
        values["groups"] = {
            group: sorted(hosts) for group, hosts in task_vars.get("groups", {}).items()
        }
        for name in CONNECTION:
            values[name] = self._resolved(task_vars.get(name))
        values_digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
        result.update(
            changed=False,
            value_digest=values_digest.hexdigest(),
            file_digest=files_digest(paths),
        )
        return result

    def _resolved(self, value: Any) -> Any:
        # A value may refer to another role's defaults, which only that role can resolve;
        # its unresolved text still changes whenever the inventory changes it.
        try:
            return self._templar.template(value)
        except Exception:  # noqa: BLE001 - any templating error falls back to the raw value
            return value

"""Fingerprint of what a deploy is made from, computed on the control node.

`value_digest` hashes the value of every variable some role declares in meta/argument_specs.yml
(as this host resolves it, templates and vault included), the names of every variable with
a role's prefix (so a new, misspelled one counts too), the inventory's groups and the host's
connection. `file_digest` hashes the content and mode of the files and directories given.
`base_value_digest` and `base_file_digest` are the same without the variables and files of
the app's release (`release_values`, `release`: its source and requirements, whose change
needs only a new release of the app). An unchanged rerun compares them with what the last
complete deploy recorded on the host (roles/deploy/tasks/unchanged.yml): given `record`, that
record's file on the control node, the action reads it, adds the control-node and release
files it lists to the paths, and returns it as `deployed` beside `fingerprint` and
`base_fingerprint` (each "<value digest> <file digest>").
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
# libyaml's loader when PyYAML has it: every rerun reads every role's argument specs, and
# the pure-Python loader takes 60 ms for them here, libyaml's 7 ms.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def declared(roles_dir: str) -> set[str]:
    """Option names of every entry point of every role's meta/argument_specs.yml."""
    names: set[str] = set()
    for spec_file in sorted(glob.glob(os.path.join(roles_dir, "*", "meta", "argument_specs.yml"))):
        with open(spec_file, encoding="utf-8") as spec:
            entry_points = (yaml.load(spec, Loader=LOADER) or {}).get("argument_specs") or {}
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


def digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def without(paths: list[dict], release: Iterable[Any]) -> list[dict]:
    """The {path, exclude} items whose path is none of the release files (paths or
    {path, exclude} mappings)."""
    left_out = {
        os.path.normpath(str(item if isinstance(item, str) else item["path"])) for item in release
    }
    return [item for item in paths if os.path.normpath(str(item["path"])) not in left_out]


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


def recorded(record: Any) -> dict[str, Any]:
    """The record of a host's last complete deploy, or {} when there is none (yet)."""
    if not record or not os.path.isfile(str(record)):
        return {}
    with open(str(record), encoding="utf-8") as text:
        return json.load(text)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        roles_dir = str(args["roles_dir"])
        exclude = [str(name) for name in args.get("exclude", [])]
        deployed = recorded(args.get("record"))
        release = list(args.get("release") or deployed.get("release_files") or [])
        listed = [
            *(args.get("paths") or []),
            *(deployed.get("control_files") or []),
            *(deployed.get("release_files") or []),
        ]
        paths = [
            {"path": self._resolved(item), "exclude": exclude}
            if isinstance(item, str)
            else {"path": item["path"], "exclude": exclude + list(item.get("exclude") or [])}
            for item in listed
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
        release_values = {str(name) for name in args.get("release_values") or []}
        result.update(
            changed=False,
            value_digest=digest(values),
            base_value_digest=digest({k: v for k, v in values.items() if k not in release_values}),
            file_digest=files_digest(paths),
            base_file_digest=files_digest(without(paths, release)),
        )
        if args.get("record"):
            result.update(
                deployed=deployed,
                fingerprint=f"{result['value_digest']} {result['file_digest']}",
                base_fingerprint=f"{result['base_value_digest']} {result['base_file_digest']}",
            )
        return result

    def _resolved(self, value: Any) -> Any:
        # A value may refer to another role's defaults, which only that role can resolve;
        # its unresolved text still changes whenever the inventory changes it.
        try:
            return self._templar.template(value)
        except Exception:  # noqa: BLE001 - any templating error falls back to the raw value
            return value

"""Fingerprint of what a deploy is made from, computed on the control node.

It hashes the value of every variable that some role declares in meta/argument_specs.yml
(as this host resolves it, templates and vault included), the inventory's groups, and the
content and mode of the files and directories given. An unchanged rerun compares it with the
fingerprint the last complete deploy recorded on the host (playbooks/unchanged.yml).
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
from typing import Any

import yaml
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        exclude = [str(name) for name in args.get("exclude", [])]

        values = {
            name: self._resolved(task_vars[name])
            for name in self._declared(args["roles_dir"])
            if name in task_vars
        }
        values["groups"] = {
            group: sorted(hosts) for group, hosts in task_vars.get("groups", {}).items()
        }
        for name in ("inventory_hostname", "ansible_host", "ansible_port", "ansible_user"):
            values[name] = self._resolved(task_vars.get(name))

        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
        for path in args.get("paths", []):
            self._hash_path(digest, os.path.normpath(str(self._resolved(path))), exclude)
        result.update(changed=False, fingerprint=digest.hexdigest())
        return result

    @staticmethod
    def _declared(roles_dir: str) -> set[str]:
        names: set[str] = set()
        for spec_file in sorted(
            glob.glob(os.path.join(roles_dir, "*", "meta", "argument_specs.yml"))
        ):
            with open(spec_file, encoding="utf-8") as spec:
                entry_points = (yaml.safe_load(spec) or {}).get("argument_specs") or {}
            for entry in entry_points.values():
                names.update((entry or {}).get("options") or {})
        return names

    def _resolved(self, value: Any) -> Any:
        # A value may refer to another role's defaults, which only that role can resolve;
        # its unresolved text still changes whenever the inventory changes it.
        try:
            return self._templar.template(value)
        except Exception:  # noqa: BLE001 - any templating error falls back to the raw value
            return value

    @staticmethod
    def _hash_path(digest: Any, path: str, exclude: list[str]) -> None:
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

"""One digest of what deploys of a stack left on a Docker host: files/stack-state.sh, run
through the host's connection as a plain command (with become when the play has it).

Given `stack` (a fingerprint and a base_fingerprint per host of the play), it computes the
stack's two digests, the one rule both the check and the record use:
- with `deployed` (this host's record; each host of `stack` carries its own), it is the
  unchanged-rerun check of one host. Only when every host's record holds the stack's inputs
  digest, or the one without the app's source, is the state read; then `unchanged` (nothing
  to do) or `release_only` (only the app's source changed) says whether it is the state the
  record holds;
- without it, it is the record's reading: the digests, and the state read with `declared`.

It reads only, so it runs in check mode too and reports changed=false. It returns `read`
(whether the script succeeded), `state` (the digest) and the script's `stderr`, and never
fails the task: a host whose state cannot be read is simply not unchanged. (Not `rc`:
Ansible takes a non-zero rc in a result for a failed task.) Every rerun reads the state
before it knows whether there is anything to do, so it must cost little: a module would
start a Python on the host for a few docker commands (about 0.3 s on the local engine, more
over SSH), a command through the connection does not.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

SCRIPT = "stack-state.sh"


def state_arguments(declared: dict[str, list]) -> list[str]:
    """The script's arguments after the label, from what the roles declared: options first,
    then the host files."""
    arguments: list[str] = []
    for option, key in (("--expires", "expires"), ("--table", "tables"), ("--unit", "units")):
        for item in declared.get(key) or []:
            arguments += [option, str(item)]
    return arguments + [str(path) for path in declared.get("host_files") or []]


def command(script: str, label: str, declared: dict[str, list]) -> str:
    """A shell command line that runs the script's text with its arguments."""
    argv = ["sh", "-c", script, SCRIPT, label, *state_arguments(declared)]
    return shlex.join(argv)


def stack_digests(stack: list[dict[str, Any]]) -> tuple[str, str]:
    """The digest of every host's inputs, and the one without the app's source."""

    def joined(key: str) -> str:
        return hashlib.sha256(" ".join(str(host[key]) for host in stack).encode()).hexdigest()

    return joined("fingerprint"), joined("base_fingerprint")


def worth_reading(stack: list[dict[str, Any]], inputs: str, base: str) -> bool:
    """Whether every host's record holds the stack's inputs, or its base inputs: else the
    run has work to do whatever the state, and the hosts are not contacted."""
    records = [host.get("deployed") or {} for host in stack]
    return all(record.get("inputs") == inputs for record in records) or all(
        record.get("base_inputs") == base for record in records
    )


def verdict(deployed: dict[str, Any], inputs: str, base: str, read: bool, state: str) -> dict:
    kept = read and bool(state) and state == deployed.get("state")
    return {
        "unchanged": kept and deployed.get("inputs") == inputs,
        "release_only": kept and deployed.get("base_inputs") == base,
    }


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        result["changed"] = False
        stack = args["stack"]
        inputs, base = stack_digests(list(stack))
        result.update(inputs_digest=inputs, base_digest=base, read=False, state="", stderr="")
        if "deployed" not in args:
            result.update(self._read(args["label"], args.get("declared") or {}))
            return result
        deployed = dict(args.get("deployed") or {})
        if worth_reading(list(stack), inputs, base):
            result.update(self._read(args["label"], deployed))
        result.update(verdict(deployed, inputs, base, result["read"], result["state"]))
        return result

    def _read(self, label: Any, declared: dict[str, Any]) -> dict[str, Any]:
        script = Path(self._find_needle("files", SCRIPT)).read_text(encoding="utf-8")
        ran = self._low_level_execute_command(
            command(script, str(label), dict(declared)), sudoable=True
        )
        read = ran.get("rc") == 0
        return {
            "read": read,
            "state": ran.get("stdout", "").strip() if read else "",
            "stderr": ran.get("stderr", "").strip(),
        }

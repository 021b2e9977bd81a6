"""One digest of what deploys of a stack left on a Docker host: files/stack-state.sh, run
through the host's connection as a plain command (with become when the play has it).

It reads only, so it runs in check mode too and reports changed=false; it never fails the
task, since a host whose state cannot be read is simply not unchanged (rc and stderr say
why). Every rerun reads the state before it knows whether there is anything to do, so it
must cost little: a module would start a Python on the host for a few docker commands
(about 0.3 s on the local engine, more over SSH), a command through the connection does not.
"""

from __future__ import annotations

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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        script = Path(self._find_needle("files", SCRIPT)).read_text(encoding="utf-8")
        ran = self._low_level_execute_command(
            command(script, str(args["label"]), dict(args.get("declared") or {})), sudoable=True
        )
        rc = int(ran.get("rc", 1))
        result.update(
            changed=False,
            rc=rc,
            stdout=ran.get("stdout", "").strip() if rc == 0 else "",
            stderr=ran.get("stderr", "").strip(),
        )
        return result

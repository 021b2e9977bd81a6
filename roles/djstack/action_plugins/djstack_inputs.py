"""Checks a role's inputs against named kinds of value: ranges and formats that
meta/argument_specs.yml cannot express (a port is 1-65535, a memory limit is Docker's
syntax, a database name is one PostgreSQL accepts unquoted).

    - name: PostgreSQL's inputs are in range
      djstack_inputs:
        postgres_published_port: port_or_zero
        postgres_backup_hour: hour

Each broken rule is one line of the failure, naming the variable, the value it got and what
is expected. A kind may also be a mapping {min: N, max: M} for an integer range.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ansible.plugins.action import ActionBase

Check = Callable[[Any], bool]


def _integer(low: int | None, high: int | None) -> Check:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        try:
            number = int(str(value))
        except ValueError:
            return False
        return (low is None or number >= low) and (high is None or number <= high)

    return check


def _pattern(expression: str) -> Check:
    compiled = re.compile(expression)
    return lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None


def _count_or_auto(value: Any) -> bool:
    return value == "auto" or _integer(1, None)(value)


def _cpus(value: Any) -> bool:
    try:
        return float(str(value)) >= 0
    except ValueError:
        return False


# kind: (check, what is expected)
KINDS: dict[str, tuple[Check, str]] = {
    "port": (_integer(1, 65535), "1-65535"),
    "port_or_zero": (_integer(0, 65535), "1-65535 (or 0 to publish nothing)"),
    "count": (_integer(1, None), "a whole number of at least 1"),
    "count_or_zero": (_integer(0, None), "a whole number of at least 0"),
    "count_or_auto": (_count_or_auto, "a whole number of at least 1, or auto"),
    "seconds": (_integer(1, None), "a number of seconds of at least 1"),
    "hour": (_integer(0, 23), "an hour, 0-23"),
    "minute": (_integer(0, 59), "a minute, 0-59"),
    "redis_db": (_integer(0, 15), "a Redis database number, 0-15"),
    "memory": (
        _pattern(r"|[0-9]+(\.[0-9]+)? ?([kKmMgGtTpP][iI]?[bB]?|[bB])?"),
        "a Docker memory limit such as 512m or 2g (or empty for none)",
    ),
    "cpus": (_cpus, "a number of CPUs such as 0.5 or 2 (0 for no limit)"),
    "pg_identifier": (
        _pattern(r"[a-z_][a-z0-9_]{0,62}"),
        (
            "a name PostgreSQL accepts unquoted: lower-case letters, digits and '_', starting"
            " with a letter or '_', at most 63 characters"
        ),
    ),
    "docker_name": (
        _pattern(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*"),
        "a Docker object name: letters, digits, '_', '.' or '-', starting with a letter or digit",
    ),
    "name": (
        _pattern(r"[a-z0-9][a-z0-9_-]*"),
        (
            "lower-case letters, digits, '-' or '_', starting with a letter or digit (it names"
            " containers, volumes and files)"
        ),
    ),
    "env_name": (_pattern(r"[A-Za-z_][A-Za-z0-9_]*"), "an environment variable name"),
}


def expectation(kind: Any) -> tuple[Check, str]:
    if isinstance(kind, dict):
        low, high = kind.get("min"), kind.get("max")
        described = f"{low if low is not None else '...'}-{high if high is not None else '...'}"
        return _integer(low, high), f"a whole number, {described}"
    if kind not in KINDS:
        raise KeyError(f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return KINDS[kind]


def shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def problems(values: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    """One message per variable whose value does not fit its kind."""
    found = []
    for name, kind in rules.items():
        check, expected = expectation(kind)
        value = values.get(name)
        if not check(value):
            found.append(f"{name} must be {expected}, got {shown(value)}.")
    return found


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        rules = dict(self._task.args)
        values = {
            name: self._templar.template(task_vars[name]) for name in rules if name in task_vars
        }
        found = problems(values, rules)
        result.update(changed=False, checked=sorted(rules))
        if found:
            result.update(failed=True, msg=" ".join(found))
        return result

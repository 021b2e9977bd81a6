"""Refuses variables that look like djstack's but that no role knows: a misspelled
`celery_worker_concurency` would otherwise be ignored in silence.

Every variable whose name starts with a role's prefix (the role's name and '_', for each
role in roles_dir) must be known to some role: an option of its meta/argument_specs.yml, a
key of its defaults or vars, or a name its tasks register, set or loop over. Names listed in
`allow` (fnmatch patterns) are the user's own. A name that a djstack release renamed is
refused with its new name.
"""

from __future__ import annotations

import difflib
import fnmatch
import glob
import os
from collections.abc import Iterable, Iterator
from typing import Any

import yaml
from ansible.plugins.action import ActionBase

# Task keys whose value names a variable the task creates.
CREATING_KEYS = ("register",)
# libyaml's loader when PyYAML has it: every deploy reads every role's and playbook's YAML
# here, 225 ms with the pure-Python loader, 21 ms with libyaml's.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=LOADER)


def _walk_tasks(items: Any) -> Iterator[dict]:
    """Every task, block and play mapping in a task or playbook file, nested ones included."""
    if isinstance(items, list):
        for item in items:
            yield from _walk_tasks(item)
    elif isinstance(items, dict):
        yield items
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            yield from _walk_tasks(items.get(key))


def names_created(items: Any) -> set[str]:
    """Variables that tasks, blocks and plays of one file define: register, set_fact keys,
    loop variables and `vars:` keys."""
    names: set[str] = set()
    for task in _walk_tasks(items):
        for key in CREATING_KEYS:
            if isinstance(task.get(key), str):
                names.add(task[key])
        for action in ("ansible.builtin.set_fact", "set_fact"):
            if isinstance(task.get(action), dict):
                names.update(k for k in task[action] if k != "cacheable")
        loop_var = (task.get("loop_control") or {}).get("loop_var")
        if isinstance(loop_var, str):
            names.add(loop_var)
        if isinstance(task.get("vars"), dict):
            names.update(task["vars"])
    return names


def known_names(roles_dir: str, playbook_dirs: Iterable[str] = ()) -> set[str]:
    """Every variable name some role or playbook declares, defines or creates."""
    known: set[str] = set()
    for role in sorted(glob.glob(os.path.join(roles_dir, "*", ""))):
        specs = (_yaml(f) for f in glob.glob(os.path.join(role, "meta", "argument_specs.yml")))
        for spec in specs:
            for entry in ((spec or {}).get("argument_specs") or {}).values():
                known.update((entry or {}).get("options") or {})
        for pattern in ("defaults/*.yml", "vars/*.yml"):
            for path in glob.glob(os.path.join(role, pattern)):
                known.update(_yaml(path) or {})
        for pattern in ("tasks/*.yml", "handlers/*.yml"):
            for path in glob.glob(os.path.join(role, pattern)):
                known.update(names_created(_yaml(path)))
    for directory in playbook_dirs:
        for path in glob.glob(os.path.join(directory, "*.yml")):
            known.update(names_created(_yaml(path)))
    return known


def unknown_variables(
    names: Iterable[str],
    prefixes: Iterable[str],
    known: set[str],
    allow: Iterable[str] = (),
    renamed: dict[str, str] | None = None,
) -> list[str]:
    """One message per name that has a role's prefix but is known to no role."""
    prefixes = tuple(prefixes)
    allow = list(allow)
    renamed = renamed or {}
    problems = []
    for name in sorted(set(names)):
        if not name.startswith(prefixes) or name in known:
            continue
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in allow):
            continue
        if name in renamed:
            problems.append(f"{name} was renamed {renamed[name]}: set that instead.")
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else "."
        problems.append(
            f"{name}: no role declares it{hint} (your own variable? list it in"
            " djstack_allow_variables)"
        )
    return problems


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        roles_dir = str(args["roles_dir"])
        prefixes = [
            os.path.basename(os.path.dirname(role)) + "_"
            for role in sorted(glob.glob(os.path.join(roles_dir, "*", "")))
        ]
        known = known_names(roles_dir, [str(d) for d in args.get("playbook_dirs", [])])
        problems = unknown_variables(
            task_vars, prefixes, known, args.get("allow") or [], args.get("renamed") or {}
        )
        result.update(changed=False, prefixes=prefixes)
        if problems:
            result.update(failed=True, msg=" ".join(problems))
        return result

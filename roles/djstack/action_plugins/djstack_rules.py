"""A role's cross-variable rules, checked in one task: each rule is an assert (a name, the
conditions that must hold, the message when one does not), optionally for each item of a
loop, only when a condition holds, and with variables of its own (`vars`), as an assert
task may.

    - name: Worker groups are well formed
      djstack_rules:
        rules:
          - name: There is at least one worker group
            that: celery_worker_groups | length > 0
            msg: celery_worker_groups needs at least one group (name and queues).
          - name: Every worker group consumes at least one queue
            loop: "{{ celery_worker_groups }}"
            that: item.queues | default([]) | length > 0
            msg: "celery_worker_groups: the group '{{ item.name }}' needs at least one queue."

Rules are checked in order and the first that fails ends the task with its message alone
(a later rule may rely on an earlier one, as later assert tasks did); a rule with a loop
gives the message of every item that breaks it. Ansible spends tens of milliseconds on
every task whatever it does, so a role's rules cost one task instead of one each. Messages
are rendered only for the rule that failed, and no value of an item is returned: a loop
over secret names prints none.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

KEYS = frozenset({"name", "that", "msg", "loop", "when", "vars"})


def conditions(rule: Mapping[str, Any], key: str) -> list[Any]:
    value = rule[key]
    return list(value) if isinstance(value, list | tuple) else [value]


def first_broken(
    rules: Iterable[Mapping[str, Any]],
    holds: Callable[[Any, Mapping[str, Any]], bool],
    items: Callable[[Any], list[Any]],
    render: Callable[[Any, Mapping[str, Any]], Any],
) -> tuple[str, str] | None:
    """The name and message of the first rule that does not hold, or None. A rule with a
    loop fails with the message of every item that breaks it, one per line, as a loop task
    reports each failed item.

    `holds(condition, local)` evaluates a condition with local variables (`item` and the
    rule's `vars`), `items(loop)` gives a loop's items and `render(template, local)` a value
    of the rule's `vars` or the message of the rule that failed."""
    for rule in rules:
        unknown = set(rule) - KEYS
        if unknown or not {"name", "that", "msg"} <= set(rule):
            raise ValueError(
                f"djstack_rules: rule {rule.get('name', '?')!r} needs name, that and msg "
                f"(and may have loop, when, vars); unknown keys: "
                f"{', '.join(sorted(unknown)) or 'none'}"
            )
        scopes = [{"item": item} for item in items(rule["loop"])] if "loop" in rule else [{}]
        messages = []
        for local in scopes:
            for name, value in (rule.get("vars") or {}).items():
                local[name] = render(value, local)
            if "when" in rule and not all(holds(c, local) for c in conditions(rule, "when")):
                continue
            if not all(holds(condition, local) for condition in conditions(rule, "that")):
                messages.append(str(render(rule["msg"], local)))
        if messages:
            return str(rule["name"]), "\n".join(messages)
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    @classmethod
    def finalize_task_arg(cls, name: str, value: Any, templar: Any, context: Any) -> Any:
        # Conditions and messages are templated rule by rule, with each loop's item.
        if name == "rules":
            return value
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        variables = task_vars or {}

        def scoped(local: Mapping[str, Any]) -> Any:
            if not local:
                return self._templar
            return self._templar.copy_with_new_env(
                available_variables=ChainMap(dict(local), variables)
            )

        def items(loop: Any) -> list[Any]:
            value = self._templar.template(loop)
            if not isinstance(value, list):
                raise AnsibleActionFail(
                    f"djstack_rules: a rule's loop must be a list, got {value!r}"
                )
            return value

        try:
            broken = first_broken(
                self._task.args["rules"],
                holds=lambda condition, local: scoped(local).evaluate_conditional(condition),
                items=items,
                render=lambda template, local: scoped(local).template(template),
            )
        except ValueError as error:
            raise AnsibleActionFail(str(error)) from error
        result["changed"] = False
        if broken:
            result.update(failed=True, rule=broken[0], msg=broken[1])
        else:
            result["msg"] = f"{len(self._task.args['rules'])} rules hold"
        return result

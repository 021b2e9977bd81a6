"""A role's rules checked in one task (the djstack_rules action): order, loops, conditions,
rule variables, and Ansible's own templating of conditions and messages."""

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from conftest import load

rules = load("roles/djstack/action_plugins/djstack_rules.py")


def trusted(value):
    """Every string trusted as a template, as Ansible marks the strings of a playbook."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def templar_check(rule_list: list[dict], variables: dict) -> tuple[str, str] | None:
    """first_broken with Ansible's templar, as the action calls it (YAML strings are trusted)."""
    templar = Templar(loader=DataLoader(), variables=variables)

    def scoped(local: dict) -> Templar:
        return templar.copy_with_new_env(available_variables={**variables, **local})

    return rules.first_broken(
        trusted(rule_list),
        holds=lambda condition, local: scoped(local).evaluate_conditional(condition),
        items=templar.template,
        render=lambda template, local: scoped(local).template(template),
    )


GROUPS = [
    {"name": "ok", "that": "groups_ | length > 0", "msg": "no groups"},
    {
        "name": "each group has a queue",
        "loop": "{{ groups_ }}",
        "that": ["item.name is string", "item.queues | default([]) | length > 0"],
        "msg": "group '{{ item.name }}' of {{ groups_ | length }} needs a queue",
    },
    {"name": "never reached", "that": "false", "msg": "later rule"},
]


def test_the_first_rule_that_fails_is_named_with_its_message_rendered_for_its_item() -> None:
    broken = templar_check(GROUPS, {"groups_": [{"name": "a", "queues": ["x"]}, {"name": "b"}]})
    assert broken == ("each group has a queue", "group 'b' of 2 needs a queue")


def test_a_loop_names_every_item_that_breaks_its_rule() -> None:
    groups = [{"name": "a"}, {"name": "b", "queues": ["x"]}, {"name": "c"}]
    broken = templar_check(GROUPS, {"groups_": groups})
    assert broken == (
        "each group has a queue",
        "group 'a' of 3 needs a queue\ngroup 'c' of 3 needs a queue",
    )


def test_rules_that_hold_report_nothing() -> None:
    assert templar_check(GROUPS[:2], {"groups_": [{"name": "a", "queues": ["x"]}]}) is None


def test_when_skips_a_rule_and_vars_are_seen_by_when_that_and_msg() -> None:
    checked = [
        {"name": "skipped", "when": "flavour == 'prod'", "that": "false", "msg": "prod only"},
        {
            "name": "debug off",
            "vars": {"debug_name": "{{ names.debug or 'DJANGO_DEBUG' }}"},
            "when": "debug_name | length > 0",
            "that": "env[debug_name] | default('0') == '0'",
            "msg": "{{ debug_name }} turns DEBUG on",
        },
    ]
    variables = {"flavour": "dev", "names": {"debug": ""}, "env": {"DJANGO_DEBUG": "1"}}
    assert templar_check(checked, variables) == ("debug off", "DJANGO_DEBUG turns DEBUG on")


def test_a_rule_with_an_unknown_or_missing_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown keys: fail_msg"):
        templar_check([{"name": "typo", "that": "true", "fail_msg": "x"}], {})
    with pytest.raises(ValueError, match="needs name, that and msg"):
        templar_check([{"name": "no message", "that": "true"}], {})


def test_an_empty_loop_checks_nothing() -> None:
    assert templar_check([{"name": "each", "loop": [], "that": "false", "msg": "x"}], {}) is None

"""Typos in variable names (the djstack_variables action), on the real roles."""

import pytest
from conftest import ROOT, load

variables = load("roles/djstack/action_plugins/djstack_variables.py")
PREFIXES = ("djstack_", "deploy_", "postgres_", "celery_worker_", "nginx_")


@pytest.fixture(scope="module")
def known(roles_dir) -> set[str]:
    return variables.known_names(str(roles_dir), [str(ROOT / "playbooks"), str(ROOT)])


def test_declared_registered_and_looped_names_are_all_known(known) -> None:
    for name in (
        "celery_worker_concurrency",  # argument spec
        "django_web_spec",  # vars/main.yml
        "deploy_state_digest",  # register
        "celery_worker_started",  # set_fact
        "celery_worker_group",  # loop_var
        "djstack_container",  # include vars and an entry point's option
        "images_verify",  # defaults
    ):
        assert name in known, name


def test_a_misspelled_variable_is_refused_with_the_closest_known_name(known) -> None:
    (problem,) = variables.unknown_variables(["celery_worker_concurency"], PREFIXES, known)
    assert problem.startswith("celery_worker_concurency: no role declares it; did you mean")
    assert "celery_worker_concurrency?" in problem and "djstack_allow_variables" in problem


def test_names_without_a_role_prefix_and_allowed_names_pass(known) -> None:
    names = ["ansible_host", "my_setting", "postgres_team_contact", "nginx_mine_1"]
    assert (
        variables.unknown_variables(names, PREFIXES, known, ["postgres_team_*", "nginx_mine_1"])
        == []
    )


def test_a_renamed_variable_is_refused_with_its_new_name(known) -> None:
    (problem,) = variables.unknown_variables(
        ["djstack_lock_break"], PREFIXES, known, renamed={"djstack_lock_break": "deploy_lock_break"}
    )
    assert problem == "djstack_lock_break was renamed deploy_lock_break: set that instead."


def test_names_created_covers_nested_blocks_and_include_vars() -> None:
    tasks = [
        {"name": "a", "block": [{"set_fact": {"x_one": 1, "cacheable": True}}], "rescue": [{"register": "x_two"}]},
        {"include_tasks": "f.yml", "vars": {"x_three": 3}, "loop_control": {"loop_var": "x_four"}},
    ]  # fmt: skip
    assert variables.names_created(tasks) == {"x_one", "x_two", "x_three", "x_four"}

"""Ranges and formats of role inputs (the djstack_inputs action)."""

import pytest
from conftest import load

inputs = load("roles/djstack/action_plugins/djstack_inputs.py")


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("port", [1, "443", 65535], [0, 65536, -1, "lots", True]),
        ("port_or_zero", [0, 80], [-1, 70000]),
        ("count", [1, "7"], [0, -2, "two"]),
        ("count_or_zero", [0, 3], [-1]),
        ("count_or_auto", ["auto", 1, "4"], [0, "Auto", "-1"]),
        ("seconds", [1, 120], [0]),
        ("hour", [0, 23], [24, -1]),
        ("minute", [0, 59], [60]),
        ("redis_db", [0, 15], [16]),
        ("memory", ["", "512m", "2g", "1.5G", "1024", "512mb", "1GiB"], ["lots", "-1m", "5x"]),
        ("cpus", [0, 0.5, "2"], [-1, "many"]),
        ("pg_identifier", ["app", "_x1", "a" * 63], ["App", "app;drop", "1app", "a" * 64, ""]),
        ("name", ["djstack-dev", "a_b"], ["Djstack", "-x", "a b", ""]),
        ("docker_name", ["My.stack-web_1"], ["-x", "a/b", "a b", ""]),
        ("env_name", ["SQL_HOST", "_X"], ["1X", "A-B"]),
        ({"min": 1, "max": 65534}, [1, 10001], [0, 65535]),
    ],
)
def test_each_kind_accepts_what_it_should_and_refuses_the_rest(kind, good, bad) -> None:
    for value in good:
        assert inputs.problems({"v": value}, {"v": kind}) == [], f"{kind} refused {value!r}"
    for value in bad:
        assert inputs.problems({"v": value}, {"v": kind}), f"{kind} accepted {value!r}"


def test_each_broken_rule_is_one_message_naming_the_variable_and_the_value() -> None:
    found = inputs.problems(
        {"postgres_backup_hour": 24, "celery_worker_concurrency": "-1", "ok_port": 80},
        {"postgres_backup_hour": "hour", "celery_worker_concurrency": "count", "ok_port": "port"},
    )
    assert found == [
        "postgres_backup_hour must be an hour, 0-23, got 24.",
        "celery_worker_concurrency must be a whole number of at least 1, got '-1'.",
    ]


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="unknown kind"):
        inputs.problems({"v": 1}, {"v": "portt"})

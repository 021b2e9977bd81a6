"""The shared contract's filters: URLs, the app's environment, published ports, secrets."""

from conftest import load

filters = load("roles/djstack/filter_plugins/djstack_filters.py")


def test_a_password_in_a_url_has_every_reserved_character_encoded() -> None:
    assert filters.url_password("a/b:c@d%e f") == "a%2Fb%3Ac%40d%25e%20f"
    assert filters.url_password("plain-Pass_123.~") == "plain-Pass_123.~"


def test_redis_urls_carry_the_user_and_only_the_secret_ones_the_password() -> None:
    urls = filters.redis_urls({"broker": 0, "cache": 1}, "redis", 6379, "app", "p/w")
    assert urls == {
        "broker": "redis://app@redis:6379/0",
        "broker_secret": "redis://app:p%2Fw@redis:6379/0",
        "cache": "redis://app@redis:6379/1",
        "cache_secret": "redis://app:p%2Fw@redis:6379/1",
    }


def test_the_app_environment_maps_facts_to_the_projects_names_and_extra_env_wins() -> None:
    facts = {"debug": "0", "database_host": "postgres", "database_port": "5432"}
    names = {"debug": "DJANGO_DEBUG", "database_host": "SQL_HOST", "database_port": ""}
    entry = {"DJSTACK_WSGI_APP": "p.wsgi:application", "DJSTACK_ASGI_APP": ""}
    env = filters.app_env(facts, names, entry, {"DJANGO_DEBUG": "1", "EXTRA": 2})
    assert env == {
        "DJSTACK_WSGI_APP": "p.wsgi:application",
        "DJANGO_DEBUG": "1",
        "SQL_HOST": "postgres",
        "EXTRA": "2",
    }, "empty entry variables and facts named '' are left out; every value is a string"


def test_two_services_on_one_port_of_one_address_are_named_together() -> None:
    declarations = {
        "postgres": {"published": [{"variable": "postgres_published_port", "address": "127.0.0.1", "port": 5432}]},
        "nginx": {"published": [{"variable": "nginx_http_port", "address": "127.0.0.1", "port": "5432"}]},
    }  # fmt: skip
    (problem,) = filters.published_conflicts(declarations)
    assert "both publish port 5432 on 127.0.0.1" in problem
    assert "nginx_http_port" in problem and "postgres_published_port" in problem


def test_a_wildcard_address_clashes_with_every_address_and_port_0_with_none() -> None:
    def entry(variable: str, address: str, port: int) -> dict:
        return {"published": [{"variable": variable, "address": address, "port": port}]}

    wildcard = {"a": entry("nginx_http_port", "0.0.0.0", 80), "b": entry("x_port", "10.0.0.1", 80)}
    assert len(filters.published_conflicts(wildcard)) == 1
    apart = {"a": entry("a_port", "127.0.0.1", 80), "b": entry("b_port", "10.0.0.1", 80)}
    assert filters.published_conflicts(apart) == []
    unpublished = {"a": entry("a_port", "127.0.0.1", 0), "b": entry("b_port", "127.0.0.1", 0)}
    assert filters.published_conflicts(unpublished) == []


def test_a_weak_secret_is_described_without_its_value() -> None:
    pattern = "changeme|example"
    assert filters.secret_problem("x" * 50, 50, pattern) == ""
    short = filters.secret_problem("tiny-secret-value", 50, pattern)
    assert "at least 50 characters" in short and "tiny-secret-value" not in short
    assert filters.secret_problem("ChangeMe" * 10, 16, pattern) != ""


def test_only_ports_the_stack_does_not_hold_yet_must_be_found_free() -> None:
    declarations = {
        "nginx": {"published": [{"variable": "nginx_http_port", "address": "0.0.0.0", "port": 80},
                                {"variable": "nginx_https_port", "address": "0.0.0.0", "port": 0}]},
        "postgres": {"published": [{"variable": "postgres_published_port", "address": "127.0.0.1", "port": "5432"}]},
    }  # fmt: skip
    ours = [{"Ports": [{"IP": "0.0.0.0", "PrivatePort": 8080, "PublicPort": 80, "Type": "tcp"}]}]
    assert filters.unheld_ports(declarations, ours) == [
        {"variable": "postgres_published_port", "address": "127.0.0.1", "port": 5432}
    ]

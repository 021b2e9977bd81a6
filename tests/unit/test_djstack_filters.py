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


def test_a_secret_in_the_plain_environment_is_named_without_its_value() -> None:
    env = {
        "DB_PASSWORD": "hunter2hunter2",
        "BROKER": "redis://app:s3cr3t@redis:6379/0",
        "HAS_KEY": "x-abcdefgh12345678-y",
        "SECRET_KEY_FILE": "/run/secrets/secret_key",
        "PASSWORD_RESET_TIMEOUT": "3600",
        "API_TOKEN": "",
        "ALLOWED_HOSTS": "a b",
        "CACHE": "redis://app@redis:6379/1",
    }
    found = filters.env_secrets(env, ["abcdefgh12345678", "short"])
    assert found == ["BROKER", "DB_PASSWORD", "HAS_KEY"]


def test_the_app_writes_to_the_uploads_and_each_writable_volume_and_tmpfs() -> None:
    writable = [{"path": "/app/logs"}, {"path": "/app/.cache", "kind": "tmpfs", "size": "32m"}]
    volumes = filters.app_volumes("s", "/app/mediafiles", "s-media", writable)
    assert volumes == [
        {"name": "s-media", "path": "/app/mediafiles"},
        {"name": "s-files-app-logs", "path": "/app/logs"},
    ]
    assert filters.app_volumes("s", "", "s-media", []) == []
    assert filters.volume_mount(volumes[0]) == {
        "type": "volume",
        "source": "s-media",
        "target": "/app/mediafiles",
    }
    assert filters.app_tmpfs(writable, 10001) == [
        "/app/.cache:rw,nosuid,nodev,uid=10001,gid=10001,mode=0700,size=32m"
    ]


def test_paths_the_app_writes_to_must_be_absolute_distinct_and_not_the_images_own() -> None:
    assert (
        filters.path_problems("/app/staticfiles", "/app/mediafiles", [{"path": "/app/logs"}]) == []
    )
    problems = filters.path_problems(
        "static", "/app/media", [{"path": "/app/media/thumbs"}, {"path": "/app"}]
    )
    assert problems[0].startswith("djstack_app_static_root must be an absolute path")
    assert "djstack_app_writable_paths '/app' may not be" in problems[1]
    assert (
        "djstack_app_media_root ('/app/media') and djstack_app_writable_paths '/app/media/thumbs'"
        in problems[2]
    )
    assert len(problems) == 5  # /app also holds /app/media and its thumbs
    assert filters.path_problems("/srv/static", "/srv/static-media", []) == []


def test_the_entry_point_gets_the_names_and_files_of_plain_secrets_only() -> None:
    pairs = filters.secret_env_names(
        {"SECRET_KEY": "secret_key", "DB_PASSWORD": "database_password"}
    )
    assert pairs == "SECRET_KEY=secret_key DB_PASSWORD=database_password"
    assert filters.secret_env_names({}) == ""

"""Bad input stops site.yml in its first play, naming the variable, before anything changes."""

import json

import pytest
from conftest import SERVICES

BAD_INPUTS = [
    ("celery_worker_concurrency=lots", "celery_worker_concurrency"),
    ("djstack_flavour=staging", "djstack_flavour must be one of: dev, prod"),
    ("nginx_http_port=70000", "nginx_http_port must be 1-65535"),
    ("postgres_published_port=-1", "postgres_published_port must be 1-65535"),
    ('{"djstack_postgres_password": ""}', "djstack_postgres_password is empty"),
    (
        '{"djstack_flavour": "prod", "djstack_secret_key": "too-short-for-django-1234"}',
        "djstack_secret_key must have at least 50 characters",
    ),
    (
        '{"djstack_flavour": "prod", "djstack_redis_password": "changeme-changeme-changeme"}',
        "djstack_redis_password must have at least 16 characters and must not be a placeholder",
    ),
    (
        '{"djstack_flavour": "prod", "djstack_app_extra_env": {"DJANGO_DEBUG": "1"}}',
        "DJANGO_DEBUG turns DEBUG on",
    ),
]


@pytest.mark.parametrize(("extra_var", "message"), BAD_INPUTS)
def test_bad_input_stops_before_any_container_changes(
    site_playbook, docker, stack, extra_var: str, message: str
) -> None:
    names = [stack.container(service) for service in SERVICES]

    def snapshot() -> list:
        return [(c["Id"], c["State"]["StartedAt"]) for c in json.loads(docker("inspect", *names))]

    before = snapshot()
    result = site_playbook("-e", extra_var)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"-e {extra_var} was accepted"
    assert message in output, f"the error does not name the variable: {output[-1500:]}"
    assert "changed=0" in output, "something changed before the run stopped"
    for secret in ("too-short-for-django-1234", "changeme-changeme-changeme"):
        if secret in extra_var:
            assert output.count(secret) == 0, "the refused secret value was printed"
    assert snapshot() == before, "a container changed"

"""Bad input stops site.yml in its first play, naming the variable, before anything changes."""

import json
import os
import subprocess

import pytest
from conftest import ROOT, SERVICES, checked_once

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
    (
        '{"djstack_app_secret_files": {"database_url": "postgres://elsewhere/db"}}',
        "djstack_app_secret_files names must be file names",
    ),
    ('{"djstack_flower": true}', "nginx_flower_password is empty"),
    (
        '{"djstack_app_git_repo": "/nonexistent/repository.git"}',
        "djstack_app_git_repo ('/nonexistent/repository.git') at djstack_app_git_version",
    ),
]


@pytest.mark.parametrize(("extra_var", "message"), BAD_INPUTS)
def test_bad_input_stops_before_any_container_changes(
    site_playbook, docker, stack, extra_var: str, message: str
) -> None:
    checked_once(stack, "input validation (the control node's own)")
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


def test_example_prod_vault_opens_with_its_password_client_and_its_placeholders_are_refused(
    stack,
) -> None:
    """inventories/prod as shipped: the vault decrypts through vault-password.sh, and the
    first play refuses its example values by name before it contacts the server."""
    checked_once(stack, "the example prod inventory")
    command = [
        "ansible-playbook",
        "site.yml",
        "-i",
        "inventories/prod",
        "--vault-password-file",
        "inventories/prod/vault-password.sh",
    ]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "HOME": "/nonexistent"}
    env.pop("DJSTACK_VAULT_PASSWORD", None)
    locked = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    assert locked.returncode != 0
    assert "set DJSTACK_VAULT_PASSWORD" in locked.stderr, locked.stderr[-1500:]

    env["DJSTACK_VAULT_PASSWORD"] = "djstack-example-vault"
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for variable in ("djstack_secret_key", "djstack_postgres_password", "djstack_redis_password"):
        assert f"{variable} must have at least" in output, output[-2000:]
    assert "example-postgres-password" not in output, "a vaulted value was printed"
    assert "UNREACHABLE" not in output and "unreachable=0" in output, "the server was contacted"


def test_a_locked_debian_version_the_mirror_lacks_stops_the_build_naming_it(
    host, site_playbook, docker, stack, tmp_path
) -> None:
    """The Debian lock is enforced: a pin the mirror cannot satisfy fails the image build
    with the package, both versions and the way out, and the running stack is untouched."""
    checked_once(stack, "the Debian lock")
    lock = (ROOT / "roles/images/files/debian.lock").read_text()
    line = next(line for line in lock.splitlines() if line.startswith("redis redis-server "))
    version = line.split()[2]
    bad_lock = tmp_path / "debian.lock"
    bad_lock.write_text(lock.replace(line, "redis redis-server 0.0.1-0djstack"))
    names = [stack.container(service) for service in SERVICES]
    before = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", *names)

    result = site_playbook("-e", json.dumps({"images_debian_lock": str(bad_lock)}))
    output = result.stdout + result.stderr
    assert result.returncode != 0, "a lock the mirror cannot satisfy was accepted"
    assert "image redis: Debian packages differ from the lock file (images_debian_lock)" in output
    assert f"redis-server is locked at 0.0.1-0djstack, but the mirror gave {version}" in output
    assert "make lock" in output and "snapshot" in output, output[-1500:]
    assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", *names) == before

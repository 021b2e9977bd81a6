"""Secrets stay out of container metadata, and a changed secret reaches every service."""

import json

from conftest import checked_once, secret_values


def test_no_secret_appears_in_docker_inspect(host, docker, stack) -> None:
    values = secret_values(host, stack)
    assert len(values) >= 5
    names = docker(
        "ps", "--all", "--filter", f"label=io.djstack.stack={stack.name}", "--format", "{{.Names}}"
    ).split()
    metadata = docker("inspect", *names)
    leaked = [name for name in names for value in values if value in metadata]
    assert not leaked, "a secret value appears in docker inspect"


def test_no_secret_appears_in_the_output_of_a_verbose_run(host, site_playbook, stack) -> None:
    """-vvv prints module arguments and results: every task that handles a secret must be
    no_log. The test greps for the actual values on the host, the TLS key included."""
    values = [value for value in secret_values(host, stack) if "\n" not in value]
    if stack.tls:
        key = host.file(f"/etc/djstack/{stack.name}/tls/privkey.pem").content_string.splitlines()
        values += [line for line in key[1:-1] if len(line) >= 40]
    assert len(values) >= 4
    result = site_playbook("-vvv")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "changed=0" in output, "a verbose rerun changed something"
    leaked = sum(1 for value in values if value in output)
    assert leaked == 0, f"{leaked} secret value(s) appear in the verbose output"


def test_changed_passwords_reach_postgres_redis_and_the_app(site_playbook, http, stack) -> None:
    def converge(*extra: str) -> str:
        result = site_playbook(*extra)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        return result.stdout

    checked_once(stack, "password rotation", remote=True)
    rotated = {
        "djstack_postgres_password": "rotated-db-pw-4f1c",
        "djstack_redis_password": "rotated-redis-pw-9b2e",
    }
    try:
        output = converge("-e", json.dumps(rotated))
        assert "rotated-db-pw" not in output and "rotated-redis-pw" not in output
        assert http("/readyz").status == 200, "the app did not follow the new passwords"
    finally:
        converge()
    assert http("/readyz").status == 200, "the app did not follow the original passwords back"

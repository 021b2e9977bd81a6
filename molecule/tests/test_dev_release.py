"""In dev, where web publishes its port and two web containers cannot run at once, a new web
that never gets healthy still leaves the previous one serving."""

import json

import pytest


def test_failed_web_in_dev_leaves_the_previous_one_serving(
    host, site_playbook, stack, http, docker
) -> None:
    if stack.flavour != "dev" or not stack.local:
        pytest.skip("the dev flavour's published web port, on the local engine")
    serving = stack.container("web")
    started = docker("inspect", "--format", "{{.Id}}", serving).strip()
    broken = {
        "django_web_extra_env": {"DJANGO_SETTINGS_MODULE": "myproject.missing"},
        "django_web_healthy_timeout": 20,
    }
    result = site_playbook("-e", json.dumps(broken))
    output = result.stdout + result.stderr
    assert result.returncode != 0, "a web that never gets healthy was accepted"
    assert "did not become healthy and ready, so it was removed" in output, output[-2000:]
    assert stack.container("web") == serving, "another web container serves now"
    assert docker("inspect", "--format", "{{.Id}}", serving).strip() == started
    assert http("/readyz").status == 200, "Nginx no longer reaches the previous web"
    port = host.ansible.get_variables().get("django_web_published_port", 8000)
    direct = host.run(
        f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/readyz').status)\""
    )
    assert direct.stdout.strip() == "200", direct.stderr

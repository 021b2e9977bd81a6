"""Every service runs, is healthy by Docker's own check, and answers through Nginx."""

import json
import re

import pytest
from conftest import SERVICES, health, held, wait_for


@pytest.mark.parametrize("service", SERVICES)
def test_container_is_running_healthy_and_restarts_itself(inspect, stack, service) -> None:
    state = inspect(stack.container(service))
    assert state["State"]["Running"], f"{service} is not running: {state['State']}"
    health = state["State"].get("Health", {})
    assert health.get("Status") == "healthy", (
        f"{service} health is {health.get('Status')}: {health.get('Log', [])[-1:]}"
    )
    assert state["HostConfig"]["RestartPolicy"]["Name"] in ("unless-stopped", "always")


def test_exactly_one_beat_runs_in_the_stack(docker, stack) -> None:
    names = docker(
        "ps",
        "--filter",
        f"label=io.djstack.stack={stack.name}",
        "--filter",
        "label=io.djstack.service=beat",
        "--format",
        "{{.Names}}",
    ).split()
    assert names == [stack.container("beat")]


def test_healthz_answers_through_nginx(http) -> None:
    response = http("/healthz")
    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_cache_and_broker_ok(http) -> None:
    response = http("/readyz")
    assert response.status == 200, response.body
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_djstacks_own_probe_answers_in_web_whatever_its_server(docker, stack) -> None:
    """gunicorn (prod) and runserver (dev) both serve the project behind djstack's probe,
    which checks the same services with the project's settings."""
    probe = (
        "import json, os, urllib.request; base = f'http://127.0.0.1:{os.environ[\"DJSTACK_PORT\"]}'; "
        "print(urllib.request.urlopen(base + '/-/djstack/alive').status, "
        "urllib.request.urlopen(base + '/-/djstack/ready').read().decode())"
    )
    alive, ready = docker("exec", stack.container("web"), "python3", "-c", probe).split(" ", 1)
    assert alive == "200"
    assert json.loads(ready) == {"database": "ok", "cache": "ok", "broker": "ok"}, ready


def test_home_page_reads_and_writes_the_database(http) -> None:
    first = http("/")
    second = http("/")
    assert first.status == second.status == 200
    count = [int(re.search(r'id="visits">(\d+)<', r.body).group(1)) for r in (first, second)]
    assert count[1] == count[0] + 1, f"visit counter did not grow: {count}"


def test_admin_login_renders_with_css_served_by_nginx(docker, http, stack) -> None:
    page = http("/admin/login/")
    assert page.status == 200
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page.body)
    assert stylesheets, "the admin login page links no stylesheet"
    # With Django frozen, only Nginx itself can answer.
    docker("pause", stack.container("web"))
    try:
        css = http(stylesheets[0])
    finally:
        docker("unpause", stack.container("web"))
    assert css.status == 200
    assert css.headers.get("Content-Type", "").startswith("text/css")
    assert "max-age=31536000" in css.headers.get("Cache-Control", ""), css.headers


def test_stopping_redis_makes_readyz_fail_naming_cache_and_broker(
    host, docker, http, stack
) -> None:
    with held(host, docker, stack, "redis"):
        response = http("/readyz")
        assert response.status == 503, response.body
        checks = response.json()["checks"]
        assert checks["database"] == "ok"
        assert checks["cache"].startswith("fail"), checks
        assert checks["broker"].startswith("fail"), checks
    wait_for(lambda: http("/readyz").status == 200, 60, "/readyz to recover after Redis restarts")


def test_a_request_that_fails_after_writing_leaves_no_row(
    host, docker, django, http, stack
) -> None:
    """The home page writes a visit, then reads the cache: with Redis down it answers 500, and
    the request's transaction (ATOMIC_REQUESTS) takes the visit back."""
    count = "from apps.core.models import Visit; print(Visit.objects.count())"
    before = int(django(count))
    with held(host, docker, stack, "redis"):
        assert http("/").status == 500
        assert int(django(count)) == before, "a failed request left its row"
    wait_for(lambda: http("/readyz").status == 200, 60, "/readyz to recover after Redis restarts")


def test_nginx_reaches_web_over_its_socket_again_after_web_restarts(
    docker, host, http, stack
) -> None:
    """Nginx's upstream is gunicorn's unix socket, a path that outlives a restart; a TCP
    upstream resolved at reload would keep the address the container had before."""
    if stack.flavour == "dev":
        pytest.skip("dev's runserver listens on TCP only, resolved per request")
    web = stack.container("web")
    upstream = host.file(f"/etc/djstack/{stack.name}/web-target/upstream.conf").content_string
    assert f"server unix:/srv/web-socket/{web}.sock;" in upstream, upstream
    assert http("/healthz").status == 200
    docker("restart", web)
    wait_for(
        lambda: health(docker, web) == "healthy",
        90,
        f"{web} to be healthy after a restart",
    )
    assert [http("/healthz").status for _ in range(5)] == [200] * 5

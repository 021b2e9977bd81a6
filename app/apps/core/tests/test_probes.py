import pytest
from django.test import Client


def test_healthz_answers_without_a_known_host(client: Client) -> None:
    response = client.get("/healthz", HTTP_HOST="unlisted.invalid")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_cache_and_broker_ok(client: Client) -> None:
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_readyz_answers_503_naming_the_failed_check(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.core import health

    def broken() -> None:
        raise ConnectionError("redis is gone")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    monkeypatch.setitem(health.CHECKS, "database", lambda: None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("fail: ConnectionError")

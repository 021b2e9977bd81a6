"""Readiness checks: each returns None when healthy or a short reason."""

from collections.abc import Callable

from django.core.cache import cache
from django.db import connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    cache.set("readyz:probe", "ok", timeout=10)
    if cache.get("readyz:probe") != "ok":
        raise RuntimeError("value written to the cache did not come back")


def check_broker() -> None:
    from celery import current_app

    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            results[name] = f"fail: {type(exc).__name__}: {exc}"[:300]
        else:
            results[name] = "ok"
    return results

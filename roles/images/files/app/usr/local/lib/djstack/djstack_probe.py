"""djstack's own health paths, for projects that have none: gunicorn serves the project
through this module, which answers two paths before the project sees the request, in the
project's own warm worker processes (a check costs a request, not a new Python process):

  /-/djstack/alive   200 while the process serves (Docker's health check)
  /-/djstack/ready   200 when the database, the cache and the Celery broker answer with
                     the project's own settings, else 503; the body names each check

Every other request goes to the project's WSGI (DJSTACK_WSGI_APP) or ASGI (DJSTACK_ASGI_APP)
application unchanged. gunicorn loads `djstack_probe:wsgi` or `djstack_probe:asgi`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
from collections.abc import Callable
from typing import Any

ALIVE = "/-/djstack/alive"
READY = "/-/djstack/ready"
# Seconds each check may take: a probe that hangs is a failed probe.
TIMEOUT = 3
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")


def load(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute or "application")


def _failure(error: BaseException) -> str:
    text = _URL_PASSWORD.sub(r"\1***@", str(error)).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:160] if text else ''}".rstrip(": ")


def check_database() -> None:
    from django.db import connections

    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # Outside Django's request cycle nothing else would close it.
        connection.close()


def check_cache() -> None:
    from django.core.cache import caches

    cache = caches["default"]
    key = f"djstack-probe-{os.getpid()}"
    cache.set(key, "1", 30)
    if cache.get(key) != "1":
        raise RuntimeError("a value set in the cache did not come back")


def check_broker() -> None:
    from celery.app.utils import find_app

    app = find_app(os.environ["DJSTACK_CELERY_APP"])
    with app.connection_for_write(connect_timeout=TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=TIMEOUT)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def ready(checks: dict[str, Callable[[], None]] = CHECKS) -> tuple[int, dict[str, str]]:
    """Status and body of the readiness probe: every check's result, 503 if one failed."""
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure is the probe's answer
            results[name] = _failure(error)
    return (200 if all(v == "ok" for v in results.values()) else 503), results


def answer(path: str) -> tuple[int, dict[str, str]] | None:
    """The probe's answer for path, or None when the request is the project's."""
    if path == ALIVE:
        return 200, {"status": "alive"}
    if path == READY:
        return ready()
    return None


def _body(status: int, body: dict[str, str]) -> tuple[str, list[tuple[str, str]], bytes]:
    data = json.dumps(body).encode()
    line = f"{status} {'OK' if status == 200 else 'Service Unavailable'}"
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"),
    ]
    return line, headers, data


def wrap_wsgi(project: Callable) -> Callable:
    def application(environ: dict, start_response: Callable) -> list[bytes]:
        found = answer(environ.get("PATH_INFO", ""))
        if found is None:
            return project(environ, start_response)
        line, headers, data = _body(*found)
        start_response(line, headers)
        return [data]

    return application


def wrap_asgi(project: Callable) -> Callable:
    async def application(scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if path not in (ALIVE, READY):
            await project(scope, receive, send)
            return
        # The checks block (database drivers, Redis clients): off the event loop.
        found = await asyncio.to_thread(answer, path)
        _, headers, data = _body(*found)
        await send(
            {
                "type": "http.response.start",
                "status": found[0],
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return application


def __getattr__(name: str) -> Callable:
    if name == "wsgi":
        return wrap_wsgi(load(os.environ["DJSTACK_WSGI_APP"]))
    if name == "asgi":
        return wrap_asgi(load(os.environ["DJSTACK_ASGI_APP"]))
    raise AttributeError(name)

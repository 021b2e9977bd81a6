"""Loads the project the way web, worker and beat will, before a release replaces anything.

Each failure names the djstack variable behind the setting, what was looked for and why it
did not load, so a wrong project path stops the deploy with a message instead of a
container that never turns healthy.
"""

import importlib
import os
import sys
import traceback
from collections.abc import Callable

CHECKS = (
    ("djstack_app_settings_module", "DJANGO_SETTINGS_MODULE", "settings module"),
    ("djstack_app_wsgi", "DJSTACK_WSGI_APP", "WSGI application (module:attribute)"),
    ("djstack_app_celery", "DJSTACK_CELERY_APP", "Celery app (as for `celery --app`)"),
)


def load_settings(name: str) -> object:
    importlib.import_module(name)
    import django

    django.setup()
    return name


def load_wsgi(path: str) -> object:
    module, _, attribute = path.partition(":")
    application = getattr(importlib.import_module(module), attribute or "application")
    if not callable(application):
        raise TypeError(f"{path} is a {type(application).__name__}, not a WSGI callable")
    return application


def load_celery(path: str) -> object:
    from celery import Celery
    from celery.app.utils import find_app

    app = find_app(path)
    if not isinstance(app, Celery):
        raise TypeError(f"{path} is a {type(app).__name__}, not a Celery app")
    return app


LOADERS: tuple[Callable[[str], object], ...] = (load_settings, load_wsgi, load_celery)


def main() -> int:
    for (variable, env, what), loader in zip(CHECKS, LOADERS, strict=True):
        value = os.environ.get(env, "")
        try:
            loader(value)
        except Exception as error:  # noqa: BLE001 - any failure to load is the finding
            last = traceback.format_exception_only(error)[-1].strip()
            print(f"{variable}: the {what} '{value}' does not load from /app: {last}")
            return 1
        print(f"{variable}: {value} loads")
    return 0


if __name__ == "__main__":
    sys.exit(main())

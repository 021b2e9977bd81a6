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


def load_settings(name: str) -> object:
    importlib.import_module(name)
    import django

    django.setup()
    return name


def load_application(path: str) -> object:
    """A WSGI or ASGI application; an empty path is a project without one (ASGI only)."""
    if not path:
        return None
    module, _, attribute = path.partition(":")
    application = getattr(importlib.import_module(module), attribute or "application")
    if not callable(application):
        raise TypeError(f"{path} is a {type(application).__name__}, not an application callable")
    return application


def load_worker_class(name: str) -> object:
    """gunicorn's own classes (sync, gthread, ...) or a dotted path the project installs."""
    if not name or "." not in name:
        return name
    from gunicorn.util import load_class

    return load_class(name)


def load_module(name: str) -> object:
    """A package the project must install for a feature it turned on; empty when it is off."""
    return importlib.import_module(name) if name else None


def load_celery(path: str) -> object:
    from celery import Celery
    from celery.app.utils import find_app

    app = find_app(path)
    if not isinstance(app, Celery):
        raise TypeError(f"{path} is a {type(app).__name__}, not a Celery app")
    return app


# One row per setting: the djstack variable, the environment variable the entry points read
# it from, what it should be, and how the entry points load it.
CHECKS: tuple[tuple[str, str, str, Callable[[str], object]], ...] = (
    ("djstack_app_settings_module", "DJANGO_SETTINGS_MODULE", "settings module", load_settings),
    (
        "djstack_app_wsgi",
        "DJSTACK_WSGI_APP",
        "WSGI application (module:attribute)",
        load_application,
    ),
    ("djstack_app_celery", "DJSTACK_CELERY_APP", "Celery app (as for `celery --app`)", load_celery),
    (
        "djstack_app_asgi",
        "DJSTACK_ASGI_APP",
        "ASGI application (module:attribute)",
        load_application,
    ),
    (
        "django_web_worker_class",
        "GUNICORN_WORKER_CLASS",
        "gunicorn worker class",
        load_worker_class,
    ),
    (
        "djstack_flower",
        "DJSTACK_FLOWER",
        "Flower package (the project must require flower)",
        load_module,
    ),
)


# The project's own setting, djstack's variable for the same path, and the environment
# variable the entry points get that path in.
PATHS = (
    ("STATIC_ROOT", "djstack_app_static_root", "DJSTACK_STATIC_ROOT"),
    ("MEDIA_ROOT", "djstack_app_media_root", "DJSTACK_MEDIA_ROOT"),
)


def path_problems(settings: object, environ: dict[str, str]) -> list[str]:
    """One message per path setting of the project that is not where djstack mounts its
    volume (files written elsewhere would hit the read-only root filesystem, or vanish)."""
    problems = []
    for setting, variable, env in PATHS:
        mounted = environ.get(env, "")
        value = str(getattr(settings, setting, "") or "")
        if mounted and os.path.normpath(value or "/") != os.path.normpath(mounted):
            problems.append(
                f"{variable}: the project's {setting} is '{value}', but djstack mounts the volume for it"
                f" at '{mounted}': set {variable}: {value or '<the path>'} (or make the project read it)"
            )
    return problems


def main() -> int:
    for variable, env, what, loader in CHECKS:
        value = os.environ.get(env, "")
        try:
            loader(value)
        except Exception as error:  # noqa: BLE001 - any failure to load is the finding
            last = traceback.format_exception_only(error)[-1].strip()
            print(f"{variable}: the {what} '{value}' does not load from /app: {last}")
            return 1
        if value:
            print(f"{variable}: {value} loads")
    from django.conf import settings

    problems = path_problems(settings, dict(os.environ))
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

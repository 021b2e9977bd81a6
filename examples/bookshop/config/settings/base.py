"""Settings shared by every environment of the bookshop.

This project reads its own variable names (SQL_*, CACHE_URL_FILE, CELERY_BROKER_FILE...),
not djstack's; its inventory maps djstack's connection facts to them.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def from_file(variable: str) -> str:
    """The content of the file named by the environment variable (a Docker secret)."""
    return Path(os.environ[variable]).read_text(encoding="utf-8").strip()


SECRET_KEY = from_file("SECRET_KEY_FILE")
DEBUG = os.environ.get("BOOKSHOP_DEBUG") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("BOOKSHOP_HOSTS", "localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES: list[dict] = []

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ["SQL_HOST"],
        "PORT": os.environ["SQL_PORT"],
        "NAME": os.environ["SQL_DATABASE"],
        "USER": os.environ["SQL_USER"],
        "PASSWORD": from_file("SQL_PASSWORD_FILE"),
    }
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": from_file("CACHE_URL_FILE"),
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("BOOKSHOP_STATIC_ROOT", str(BASE_DIR / "static"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = from_file("CELERY_BROKER_FILE")
CELERY_RESULT_BACKEND = from_file("CELERY_RESULTS_FILE")
CELERY_TASK_DEFAULT_QUEUE = "search"
CELERY_TASK_ROUTES = {
    "catalog.tasks.reindex": {"queue": "search"},
    "catalog.tasks.send_receipt": {"queue": "mail"},
    "catalog.tasks.heartbeat": {"queue": "mail"},
}
# Installed into django-celery-beat's tables by its database scheduler when beat starts.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "catalog.tasks.heartbeat", "schedule": 5.0},
}

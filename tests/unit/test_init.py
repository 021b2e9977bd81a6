"""What `init` reads from a Django project without importing it: the gallery example is
written the common way, the reference app with django-environ."""

from pathlib import Path

from conftest import ROOT, load

inspect = load("roles/deploy/action_plugins/deploy_inspect_project.py").inspect


def test_the_gallerys_applications_paths_and_formats_are_found() -> None:
    found = inspect(ROOT / "examples" / "gallery")
    assert (found["settings_module"], found["settings_from"]) == ("gallery.settings", "manage.py")
    assert found["wsgi"] == "gallery.wsgi:application"
    assert found["asgi"] == "gallery.asgi:application", "Channels' router means ASGI"
    assert (found["celery"], found["celery_from"]) == ("gallery", "gallery/celery.py")
    assert (found["static_root"], found["media_root"]) == ("/app/staticfiles", "/app/mediafiles")
    assert found["log_directories"] == ["/app/logs"]
    assert (found["list_separator"], found["booleans"]) == (" ", "True/False")
    assert (found["requirements"], found["requirements_locked"]) == ("requirements.txt", False)


def test_the_gallerys_plain_secrets_and_facts_are_mapped_by_name() -> None:
    found = inspect(ROOT / "examples" / "gallery")
    assert found["secret_env"] == {
        "SECRET_KEY": "secret_key",
        "DB_PASSWORD": "database_password",
        "REDIS_URL": "redis_cache_url",
        "CELERY_BROKER_URL": "redis_broker_url",
        "CELERY_RESULT_BACKEND": "redis_results_url",
        "CHANNELS_URL": "redis_broker_url",
    }
    assert found["env_names"]["database_host"] == "DB_HOST"
    assert found["env_names"]["allowed_hosts"] == "ALLOWED_HOSTS"
    assert found["env_names"]["https"] == "SECURE"


def test_a_plain_startproject_is_wsgi_and_unread_names_are_listed(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")\n'
    )
    package = tmp_path / "site_cfg"
    package.mkdir()
    (package / "settings.py").write_text(
        'import os\nSTATIC_ROOT = os.path.join(BASE_DIR, "collected")\n'
        'TEAM = os.environ["TEAM_NAME"]\nDEBUG = os.getenv("DJANGO_DEBUG") == "1"\n'
    )
    (package / "wsgi.py").write_text("application = get_wsgi_application()\n")
    (package / "asgi.py").write_text("application = get_asgi_application()\n")
    found = inspect(tmp_path)
    assert found["wsgi"] == "site_cfg.wsgi:application" and found["asgi"] == ""
    assert found["static_root"] == "/app/collected" and found["booleans"] == "1/0"
    assert found["unknown_env"] == ["TEAM_NAME"] and found["celery"] == ""

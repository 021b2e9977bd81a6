import pytest


@pytest.fixture(autouse=True)
def plain_static_storage(settings) -> None:
    """Templates render without a collectstatic manifest, whatever the flavour."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

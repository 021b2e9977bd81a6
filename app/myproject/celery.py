"""The Celery app and its beat schedule."""

import logging
import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")

app = Celery("myproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "cleanup-expired-sessions": {
        "task": "apps.core.tasks.cleanup_expired_sessions",
        "schedule": crontab(hour=2, minute=0),
    },
    "generate-daily-report": {
        "task": "apps.core.tasks.generate_daily_report",
        "schedule": crontab(hour=6, minute=0),
    },
}


@app.on_after_finalize.connect
def add_heartbeat(sender: Celery, **kwargs: object) -> None:
    """Schedule the heartbeat task when CELERY_HEARTBEAT_INTERVAL asks for it."""
    from django.conf import settings

    interval = settings.CELERY_HEARTBEAT_INTERVAL
    if interval > 0:
        sender.conf.beat_schedule["heartbeat"] = {
            "task": "apps.core.tasks.heartbeat",
            "schedule": interval,
        }


@beat_init.connect
def log_schedule(sender: object, **kwargs: object) -> None:
    """Name every schedule entry in beat's log, so operators see what it will send."""
    for name, entry in sorted(app.conf.beat_schedule.items()):
        logging.getLogger(__name__).warning(
            "beat schedule entry %s: %s every %s", name, entry["task"], entry["schedule"]
        )

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from myproject.celery import app

from apps.core import tasks
from apps.core.models import Visit


@pytest.mark.django_db
def test_generate_daily_report_stores_counts_in_the_cache() -> None:
    cache.delete("daily_report")
    Visit.objects.create(path="/")
    report = tasks.generate_daily_report()
    assert report["visits_total"] == 1
    assert cache.get("daily_report") == report


@pytest.mark.django_db
def test_cleanup_expired_sessions_deletes_only_expired_rows() -> None:
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="new", session_data="", expire_date=now + timedelta(1))
    assert tasks.cleanup_expired_sessions() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def test_send_welcome_email_sends_one_message(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_welcome_email("new@example.com") == "new@example.com"
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_heartbeat_leaves_a_timestamp() -> None:
    stamp = tasks.heartbeat()
    assert cache.get("heartbeat") == stamp


def test_beat_schedule_runs_cleanup_at_two_and_report_at_six() -> None:
    schedule = app.conf.beat_schedule
    cleanup = schedule["cleanup-expired-sessions"]["schedule"]
    report = schedule["generate-daily-report"]["schedule"]
    assert (cleanup.hour, cleanup.minute) == ({2}, {0})
    assert (report.hour, report.minute) == ({6}, {0})

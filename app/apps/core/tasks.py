import time
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

from .models import Visit


@shared_task(bind=True, max_retries=3)
def send_welcome_email(self, address: str) -> str:
    try:
        send_mail(
            "Welcome",
            "Thanks for signing up.",
            settings.DEFAULT_FROM_EMAIL,
            [address],
        )
    except (SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=settings.WELCOME_EMAIL_RETRY_DELAY) from exc
    return address


@shared_task
def cleanup_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task
def generate_daily_report() -> dict[str, object]:
    since = timezone.now() - timezone.timedelta(days=1)
    report = {
        "generated_at": timezone.now().isoformat(),
        "visits_last_day": Visit.objects.filter(created__gte=since).count(),
        "visits_total": Visit.objects.count(),
    }
    cache.set("daily_report", report, timeout=None)
    return report


@shared_task
def heartbeat() -> float:
    """Leave a timestamp that proves beat -> broker -> worker works."""
    now = time.time()
    cache.set("heartbeat", now, timeout=None)
    return now


@shared_task
def slow_echo(value: int, seconds: float = 0.5) -> int:
    """Sleep, then return value: work that is in flight while a deploy replaces the worker."""
    time.sleep(seconds)
    return value

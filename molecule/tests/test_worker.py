"""The worker consumes from the broker and runs the app's tasks against real services."""

import json


def test_worker_answers_inspect_ping(docker, stack) -> None:
    output = docker(
        "exec",
        stack.container("worker"),
        "sh",
        "-c",
        'celery --app "$DJSTACK_CELERY_APP" inspect ping --timeout 10',
    )
    assert "pong" in output


def test_generate_daily_report_through_broker_fills_the_cache(django) -> None:
    result = json.loads(
        django(
            "import json; from django.core.cache import cache\n"
            "from apps.core.tasks import generate_daily_report\n"
            "cache.delete('daily_report')\n"
            "sent = generate_daily_report.delay().get(timeout=30)\n"
            "print(json.dumps({'sent': sent, 'cached': cache.get('daily_report')}))"
        )
    )
    assert result["cached"] is not None, "the worker did not fill daily_report"
    assert result["cached"] == result["sent"]


def test_cleanup_expired_sessions_deletes_an_expired_row(django) -> None:
    result = json.loads(
        django(
            "import json; from datetime import timedelta\n"
            "from django.contrib.sessions.models import Session\n"
            "from django.utils import timezone\n"
            "from apps.core.tasks import cleanup_expired_sessions\n"
            "now = timezone.now()\n"
            "Session.objects.update_or_create(session_key='djstack-test-expired',"
            " defaults={'session_data': '', 'expire_date': now - timedelta(days=1)})\n"
            "Session.objects.update_or_create(session_key='djstack-test-live',"
            " defaults={'session_data': '', 'expire_date': now + timedelta(days=1)})\n"
            "deleted = cleanup_expired_sessions.delay().get(timeout=30)\n"
            "keys = set(Session.objects.filter(session_key__startswith='djstack-test')"
            ".values_list('session_key', flat=True))\n"
            "Session.objects.filter(session_key='djstack-test-live').delete()\n"
            "print(json.dumps({'deleted': deleted, 'left': sorted(keys)}))"
        )
    )
    assert result["deleted"] >= 1
    assert result["left"] == ["djstack-test-live"]

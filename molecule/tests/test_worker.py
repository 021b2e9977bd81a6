"""The worker consumes from the broker and runs the app's tasks against real services."""

import json

from conftest import checked_once, health, held, wait_for


def test_worker_answers_inspect_ping(docker, stack) -> None:
    output = docker(
        "exec",
        stack.container("worker"),
        "sh",
        "-c",
        'celery --app "$DJSTACK_CELERY_APP" inspect ping --timeout 10',
    )
    assert "pong" in output


def test_worker_turns_unhealthy_without_its_broker_and_healthy_again_with_it(
    host, docker, stack
) -> None:
    checked_once(stack, "the worker's liveness check")
    worker = stack.container("worker")

    # held waits for Redis to be healthy again before it returns.
    with held(host, docker, stack, "redis"):
        wait_for(
            lambda: health(docker, worker) == "unhealthy", 60, f"{worker} unhealthy without Redis"
        )
    wait_for(lambda: health(docker, worker) == "healthy", 60, f"{worker} healthy again with Redis")


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


SMTP_SINK = """
import socketserver

class Sink(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 sink\\r\\n")
        data = False
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\\r\\n")
            if data:
                if line == ".":
                    data = False
                    self.wfile.write(b"250 queued\\r\\n")
                else:
                    print("DATA", line, flush=True)
                continue
            verb = line.split(" ", 1)[0].upper()
            print(verb, line, flush=True)
            if verb == "DATA":
                data = True
                self.wfile.write(b"354 go ahead\\r\\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\\r\\n")
                return
            else:
                self.wfile.write(b"250 ok\\r\\n")

socketserver.ThreadingTCPServer(("0.0.0.0", 1025), Sink).serve_forever()
"""


def test_send_welcome_email_retries_until_the_mail_server_answers(
    host, docker, inspect, django, stack
) -> None:
    sink = f"{stack.name}-test-mailsink"
    docker("rm", "--force", sink, check=False)
    task_id = django(
        "from apps.core.tasks import send_welcome_email\n"
        "print(send_welcome_email.delay('new-user@example.com').id)"
    ).strip()

    def state() -> str:
        return django(
            f"from celery.result import AsyncResult; print(AsyncResult('{task_id}').state)"
        ).strip()

    wait_for(lambda: state() == "RETRY", 30, "the task to retry while no mail server answers")
    image = inspect(stack.container("web"))["Config"]["Image"]
    docker(
        "run",
        "--detach",
        "--name",
        sink,
        "--network",
        stack.name,
        "--network-alias",
        "mail",
        "--label",
        f"io.djstack.stack={stack.name}",
        "--entrypoint",
        "python3",
        image,
        "-c",
        SMTP_SINK,
    )
    try:
        wait_for(lambda: state() == "SUCCESS", 40, "the retried task to succeed")
        received = host.check_output(f"docker logs {sink} 2>&1")
        assert "rcpt to:<new-user@example.com>" in received.lower(), received
        assert "Subject: Welcome" in received, received
    finally:
        docker("rm", "--force", sink, check=False)

"""The running beat holds exactly the expected schedule, and really dispatches."""

import json
import time

from conftest import wait_for

READ_SCHEDULE = """
import json, os
from celery.app.utils import find_app
app = find_app(os.environ["DJSTACK_CELERY_APP"])
app.finalize(auto=True)
out = {}
for name, entry in app.conf.beat_schedule.items():
    s = entry["schedule"]
    out[name] = {"task": entry["task"], "hour": sorted(getattr(s, "hour", [])),
                 "minute": sorted(getattr(s, "minute", [])), "repr": repr(s)}
print(json.dumps(out))
"""


def beat_schedule(docker, stack) -> dict:
    """The schedule as the beat container's own app builds it, with beat's environment."""
    return json.loads(docker("exec", stack.container("beat"), "python3", "-c", READ_SCHEDULE))


def test_beat_schedule_has_exactly_the_expected_entries(docker, stack) -> None:
    schedule = beat_schedule(docker, stack)
    assert set(schedule) == {"cleanup-expired-sessions", "generate-daily-report", "heartbeat"}
    cleanup, report = schedule["cleanup-expired-sessions"], schedule["generate-daily-report"]
    assert cleanup["task"] == "apps.core.tasks.cleanup_expired_sessions"
    assert (cleanup["hour"], cleanup["minute"]) == ([2], [0]), cleanup["repr"]
    assert report["task"] == "apps.core.tasks.generate_daily_report"
    assert (report["hour"], report["minute"]) == ([6], [0]), report["repr"]


def test_beat_log_names_both_daily_entries(host, stack) -> None:
    log = host.check_output(f"docker logs {stack.container('beat')} 2>&1")
    assert "cleanup-expired-sessions" in log
    assert "generate-daily-report" in log


def test_beat_dispatches_heartbeat_to_worker(django) -> None:
    def heartbeat() -> float:
        return float(
            django("from django.core.cache import cache; print(cache.get('heartbeat') or 0)")
        )

    first = heartbeat()
    wait_for(lambda: heartbeat() > first, 30, "a newer heartbeat from beat through the worker")
    assert time.time() - heartbeat() < 15, "the heartbeat timestamp is not fresh"

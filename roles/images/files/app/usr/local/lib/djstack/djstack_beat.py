"""Beat's scheduler, wrapped so that the container's liveness check works for any scheduler.

Runs the scheduler named by DJSTACK_BEAT_SCHEDULER (else the project's beat_scheduler
setting, Celery's file-based one by default) and touches a file on every tick of beat's
loop. django-celery-beat's database scheduler keeps no schedule file, so the file's age is
the one sign of a live loop that every scheduler gives.
"""

import os
from pathlib import Path

from celery import current_app
from celery.utils.imports import symbol_by_name

ALIVE = Path(os.environ["DJSTACK_BEAT_ALIVE"])  # set by the image's entry point

Base = symbol_by_name(os.environ.get("DJSTACK_BEAT_SCHEDULER") or current_app.conf.beat_scheduler)


class Scheduler(Base):
    """The configured scheduler, marking each pass of beat's loop."""

    def tick(self, *args: object, **kwargs: object) -> float:
        ALIVE.touch()
        return super().tick(*args, **kwargs)

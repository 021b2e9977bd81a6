"""The project's Celery app, with a step that lets the worker's liveness check be a file.

`celery inspect ping` proves a worker answers, but starts a Python process that loads the
project for every check: 0.3 s of CPU, too much to run every few seconds. Instead the
worker's consumer touches a file every second while it runs with a broker connection, and
removes it when it stops or loses the broker; the container's check is the file's age.
The project's app is found as `celery --app` finds it (DJSTACK_CELERY_APP). It also bounds
how long the task of a worker that died waits to be delivered again (DJSTACK_VISIBILITY_TIMEOUT).
"""

import os
from pathlib import Path

from celery import bootsteps
from celery.app.utils import find_app

ALIVE = Path(os.environ["DJSTACK_WORKER_ALIVE"])  # set by the image's entry point


class Alive(bootsteps.StartStopStep):
    """Marks each second of a consumer that is connected and running its event loop."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: object, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, c: object) -> None:
        ALIVE.touch()
        self.tref = c.timer.call_repeatedly(1.0, ALIVE.touch, priority=10)

    def stop(self, c: object) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        ALIVE.unlink(missing_ok=True)

    shutdown = stop


app = find_app(os.environ["DJSTACK_CELERY_APP"])
app.steps["consumer"].add(Alive)

# A task a killed worker had not acknowledged is delivered again once it is older than the
# visibility timeout; kombu's own sweep for such tasks runs every 100 s by default, so it
# runs every few seconds instead (one cheap Redis query).
if os.environ.get("DJSTACK_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **(app.conf.broker_transport_options or {}),
        "visibility_timeout": int(os.environ["DJSTACK_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
    }

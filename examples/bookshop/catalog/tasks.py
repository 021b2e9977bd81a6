"""Tasks on two queues; each returns the worker's host name, which is its container's."""

import socket

from celery import shared_task

from .models import Book, Heartbeat


@shared_task
def reindex() -> dict[str, object]:
    return {"worker": socket.gethostname(), "books": Book.objects.count()}


@shared_task
def send_receipt(order: int) -> dict[str, object]:
    return {"worker": socket.gethostname(), "order": order}


@shared_task
def heartbeat() -> None:
    Heartbeat.objects.create(worker=socket.gethostname())

from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)


class Heartbeat(models.Model):
    """One row per heartbeat task that beat sent and a worker ran."""

    at = models.DateTimeField(auto_now_add=True)
    worker = models.CharField(max_length=100)

from django.db import models


class Visit(models.Model):
    """One row per page view of the home page: the page reads and writes the database."""

    path = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.path} at {self.created:%Y-%m-%d %H:%M:%S}"


class Item(models.Model):
    """A row looked up by an indexed slug, for the benchmark view."""

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.slug

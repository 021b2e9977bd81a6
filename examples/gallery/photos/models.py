from django.db import models


class Photo(models.Model):
    title = models.CharField(max_length=200)
    image = models.ImageField(upload_to="photos/%Y/%m/")
    thumbnail = models.ImageField(upload_to="thumbs/", blank=True)
    uploaded = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title

import logging
from io import BytesIO
from pathlib import Path

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.files.base import ContentFile
from PIL import Image

from .models import Photo

logger = logging.getLogger(__name__)


@shared_task
def make_thumbnail(photo_id: int) -> str:
    """Writes the thumbnail beside the upload and tells the open pages over Channels."""
    photo = Photo.objects.get(pk=photo_id)
    with Image.open(photo.image.path) as image:
        image.thumbnail((128, 128))
        data = BytesIO()
        image.convert("RGB").save(data, format="JPEG")
    photo.thumbnail.save(f"{Path(photo.image.name).stem}.jpg", ContentFile(data.getvalue()))
    logger.info("thumbnail %s for photo %s", photo.thumbnail.name, photo.pk)
    async_to_sync(get_channel_layer().group_send)(
        "photos", {"type": "photo.added", "id": photo.pk, "thumbnail": photo.thumbnail.url}
    )
    return photo.thumbnail.name


@shared_task
def count_photos() -> int:
    count = Photo.objects.count()
    cache.set("photo-count", count, 60)
    return count

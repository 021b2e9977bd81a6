import logging

from django import forms
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render

from .models import Photo
from .tasks import make_thumbnail

logger = logging.getLogger(__name__)


class PhotoForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ("title", "image")


def index(request):
    photos = Photo.objects.order_by("-uploaded")[:20]
    return render(
        request,
        "photos/index.html",
        {"photos": photos, "form": PhotoForm(), "count": cache.get("photo-count")},
    )


def upload(request):
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        photo = form.save()
        logger.info("uploaded photo %s", photo.pk)
        make_thumbnail.delay(photo.pk)
        return redirect("detail", pk=photo.pk)
    return render(request, "photos/index.html", {"form": form, "photos": []}, status=400)


def detail(request, pk: int):
    photo = get_object_or_404(Photo, pk=pk)
    return render(request, "photos/detail.html", {"photo": photo})

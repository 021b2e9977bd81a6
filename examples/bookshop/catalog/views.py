from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import Book


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"bookshop: {Book.objects.count()} books\n", content_type="text/plain")


def alive(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"alive": True})


def ready(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    cache.set("bookshop-ready", "1", 5)
    return JsonResponse({"ready": cache.get("bookshop-ready") == "1"})

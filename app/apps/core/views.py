from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .models import Item, Visit


def home(request: HttpRequest) -> HttpResponse:
    Visit.objects.create(path=request.path)
    context = {
        "visit_count": Visit.objects.count(),
        "recent": Visit.objects.order_by("-created")[:5],
        "report": cache.get("daily_report"),
    }
    return render(request, "core/home.html", context)


def item(request: HttpRequest, slug: str) -> JsonResponse:
    """Exactly one indexed database read and one cache get."""
    found = Item.objects.filter(slug=slug).values("slug", "title").first()
    if found is None:
        raise Http404(slug)
    return JsonResponse({"item": found, "report": cache.get("daily_report")})

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from .health import run_checks


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before host validation and sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            checks = run_checks()
            ok = all(result == "ok" for result in checks.values())
            return JsonResponse(
                {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
            )
        return self.get_response(request)

"""Production settings: base, plus HTTPS when the deployment serves it."""

import os

from .base import *

if os.environ.get("BOOKSHOP_HTTPS") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Probes come over plain HTTP from inside the container.
    SECURE_REDIRECT_EXEMPT = [r"^-/"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

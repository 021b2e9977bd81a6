# Managed by djstack (role images). Every setting can be overridden from the environment.
import multiprocessing
import os
import socket

bind = [f"0.0.0.0:{os.environ.get('DJSTACK_PORT', '8000')}"]
# Nginx on the same host keeps connections to this socket open across requests (an upstream
# of a unix path never goes stale when the container restarts with another address).
if os.environ.get("DJSTACK_SOCKET_DIR"):
    bind.append(f"unix:{os.environ['DJSTACK_SOCKET_DIR']}/{socket.gethostname()}.sock")
# 0 means derive from the cores the container sees.
workers = int(os.environ.get("GUNICORN_WORKERS", "0")) or multiprocessing.cpu_count()
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
worker_tmp_dir = "/dev/shm"
# The unix socket is created 0770: only the app's user and group (which Nginx's container
# joins) may connect, not every user of the host.
umask = int(os.environ.get("GUNICORN_UMASK", "0o007"), 8)
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")

"""gunicorn settings for production: gevent workers for the device API's deliberate delays, and
an access log without client addresses (DESIGN.md 3.3).

Every device request is held until a drawn delay (150-250 ms) has passed, so that real and
dummy traffic look alike. A gevent worker holds that wait as a sleeping greenlet, not a
thread: one worker per core serves as many phones at once as the CPU allows, where a thread
per waiting request capped a host at threads / 0.2 s. psycopg 3 cooperates with gevent by
itself (3.1.14 and later); database connections come from a pool per worker
(DATABASE_POOL_MAX_SIZE). GUNICORN_WORKER_CLASS=gthread with GUNICORN_THREADS is the
fallback without monkey-patching.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(os.cpu_count() or 2)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))  # gthread only
if worker_class == "gevent":
    # A greenlet per request would otherwise open (and keep) a connection per request. The
    # workers read this when they load Django, after the fork: the pool is theirs alone.
    os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "20")
timeout = 60
graceful_timeout = 30
# Recycling guards against slow leaks; each recycle closes the worker's keep-alive connections,
# so not every few seconds under load.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
# No %(h)s (remote address), no user agent, no query string (%(U)s is the path only).
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

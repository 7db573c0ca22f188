"""gunicorn settings for production: threads for the device API's deliberate delays, and an
access log without client addresses (DESIGN.md 3.3)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Device responses are held for a drawn delay (indistinguishable dummy traffic); threads wait
# cheaply, so each worker serves many phones at once.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = 60
graceful_timeout = 30
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = "-"
# No %(h)s (remote address), no user agent, no query string (%(U)s is the path only).
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

"""gunicorn settings for production: one process per core with enough threads for the device
API's deliberate delays, pooled database connections, and an access log without client
addresses (DESIGN.md 3.3).

Every device request is held until a drawn delay (150-250 ms) has passed, so that real and
dummy traffic look alike. A thread sits out that delay, so a process serves at most
threads / 0.2 s device requests: 32 threads, ~160 a second, about what one core can compute.
The database connection goes back to the pool before the delay (the view does that), so
a handful of connections per process is enough (DATABASE_POOL_MAX_SIZE, 10).

gevent workers (GUNICORN_WORKER_CLASS=gevent; psycopg 3 cooperates with gevent by itself)
hold the delay without a thread, but on this 2-core machine they served uploads with a worse
tail latency than threads; see benchmarks/README.md.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(os.cpu_count() or 2)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))  # gevent only
# Read by each worker when it loads Django, after the fork: the pool is that worker's alone
# (the Celery processes keep their own persistent connections).
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "10")
timeout = 60
graceful_timeout = 30
# Recycling guards against slow leaks; each recycle closes the worker's keep-alive
# connections, so not every few seconds under load.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
# No %(h)s (remote address), no user agent, no query string (%(U)s is the path only).
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# Whatever the format asks for, the logger class leaves out addresses, user agents, referrers,
# query strings and secrets in paths, and rewrites the error log the same way
# (authority/operations/gunicorn_logging.py, docs/operations-logging.md).
logger_class = "authority.operations.gunicorn_logging.GunicornLogger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

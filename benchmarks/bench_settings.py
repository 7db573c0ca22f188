"""Settings of the benchmarks' gunicorn: the product's settings, plus a trivial endpoint.

The trivial endpoint (`POST /bench/trivial`) lives only here, in the benchmarks' own URLconf:
it runs through the same gunicorn, middleware and DRF stack as the device API but does no
work, so it measures what the stack itself can serve on this machine.
"""

from authority.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"

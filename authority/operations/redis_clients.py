"""One Redis client per URL and process, shared by all its threads.

A `redis.Redis` made from a URL owns its connection pool and disconnects it when garbage
collected. A cache that two threads may fill at once (functools.cache computes outside its
lock and the later result replaces the earlier) drops a client that a thread is still using:
its connections are then closed under that thread, mid-command (a 500 seen under concurrent
requests). The lock makes the first client the only one.
"""

from __future__ import annotations

import threading

import redis

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def shared_client(url: str, *, timeout_seconds: float = 2) -> redis.Redis:
    """The process's client for `url`, made on first use (timeouts fixed at that point)."""
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
            )
            _clients[url] = client
        return client

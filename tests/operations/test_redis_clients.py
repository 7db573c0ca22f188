"""The process's Redis clients: one per URL, even when threads ask for it at the same moment."""

from __future__ import annotations

import secrets
import threading

from authority.operations.redis_clients import shared_client


def test_threads_asking_at_once_for_a_new_url_all_get_the_one_client():
    # A second client would replace the first in the cache and, once collected, disconnect the
    # pool the first thread was using (the 500 of the concurrent brute-force test). The race
    # is narrow: functools.cache lost it within 20 fresh URLs here.
    for _ in range(20):
        assert_one_client(f"redis://127.0.0.1:6379/0?client_name=shared-{secrets.token_hex(4)}")


def assert_one_client(url: str) -> None:
    start = threading.Barrier(16)
    got: list[int] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait()
        client = shared_client(url)
        with lock:
            got.append(id(client))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 16
    assert len(set(got)) == 1
    assert id(shared_client(url)) == got[0]

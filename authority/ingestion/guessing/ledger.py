"""The counts behind the guessing policy, in the cache only.

Per network (known by its keyed token): a bucket of failed lookups (`tokens`, refilled with
time), the lookups it made today, and which codes (keyed tokens) cost it how many. Nationally:
failed lookups per minute, the guard's end, and which network tokens are throttled until when.

On Redis (production) every step is one Lua script: atomic, so concurrent guesses from one
network cannot slip past its budget, and one round trip. Any other cache (the development
database cache, the tests' memory cache) runs the same steps in Python under a process lock.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.exceptions import NoScriptError

# The national count of failed lookups looks this far back.
WINDOW_MINUTES = 10
GUARD_KEY = "guessing:guard"
THROTTLED_KEY = "guessing:throttled"


@dataclass(frozen=True)
class Budget:
    """The policy's numbers (settings GUESSING_*; docs/guessing.md)."""

    capacity: int
    refill_seconds: int
    guard_daily_cap: int
    guard_threshold: int
    guard_hold_seconds: int

    @classmethod
    def from_settings(cls) -> Budget:
        return cls(
            capacity=settings.GUESSING_NETWORK_BURST,
            refill_seconds=settings.GUESSING_NETWORK_REFILL_SECONDS,
            guard_daily_cap=settings.GUESSING_GUARD_DAILY_CAP,
            guard_threshold=settings.GUESSING_GUARD_THRESHOLD,
            guard_hold_seconds=settings.GUESSING_GUARD_HOLD_MINUTES * 60,
        )


@dataclass(frozen=True)
class Activity:
    """National figures only: never which networks."""

    failed_last_10_minutes: int
    throttled_networks: int
    guard_active: bool


class Ledger(Protocol):
    def admit(self, *, network: str, code: str, now: float, dry: bool, budget: Budget) -> float:
        """Seconds the network must wait (0: admitted, and charged unless `dry`)."""

    def refund(self, *, network: str, code: str, now: float, budget: Budget) -> None:
        """The code turned out valid: give back what its lookups cost the network today."""

    def record_failure(self, *, now: float, budget: Budget) -> None:
        """Count a failed lookup nationally; switch the guard on when they are too many."""

    def activity(self, *, now: float) -> Activity: ...


def ledger() -> Ledger:
    backend = caches["default"]  # `cache` is a proxy: ask for the backend itself
    if isinstance(backend, RedisCache):
        return RedisLedger(backend)
    return CacheLedger(backend)


def network_key(network: str) -> str:
    return f"guessing:network:{network}"


def codes_key(network: str) -> str:
    return f"guessing:codes:{network}"


def failures_key(minute: int) -> str:
    return f"guessing:failures:{minute}"


def seconds_left_today(now: float) -> int:
    """Network tokens change at midnight UTC: their counts can go then (plus a margin)."""
    return math.ceil(86400 - now % 86400) + 60


# --- The policy, step by step (the Lua scripts below do exactly the same) ------------------------


def refilled(tokens: float, at: float, now: float, budget: Budget) -> float:
    return min(budget.capacity, tokens + (now - at) / budget.refill_seconds)


def wait_seconds(
    *, tokens: float, today: int, guard_until: float, now: float, budget: Budget
) -> float:
    """How long a network with this bucket and this day's lookups may not look a code up."""
    wait = 0.0
    if tokens < 1:
        wait = (1 - tokens) * budget.refill_seconds
    if guard_until > now and today >= budget.guard_daily_cap:
        wait = max(wait, guard_until - now)
    return wait


class CacheLedger:
    """Any Django cache: one value per network, read and written under a process lock (atomic
    within a process, which is all the embedded run and the tests need)."""

    _lock = threading.Lock()

    def __init__(self, backend: BaseCache) -> None:
        self.backend = backend

    def admit(self, *, network: str, code: str, now: float, dry: bool, budget: Budget) -> float:
        with self._lock:
            state = self.backend.get(network_key(network)) or {}
            guard_until = float(self.backend.get(GUARD_KEY) or 0)
            tokens = refilled(
                state.get("tokens", budget.capacity), state.get("at", now), now, budget
            )
            today = int(state.get("today", 0))
            wait = wait_seconds(
                tokens=tokens, today=today, guard_until=guard_until, now=now, budget=budget
            )
            if dry:
                return wait
            if wait == 0:
                codes = dict(state.get("codes", {}))
                codes[code] = codes.get(code, 0) + 1
                tokens, today = tokens - 1, today + 1
                self.backend.set(
                    network_key(network),
                    {"tokens": tokens, "at": now, "today": today, "codes": codes},
                    timeout=seconds_left_today(now),
                )
            blocked = wait or wait_seconds(
                tokens=tokens, today=today, guard_until=guard_until, now=now, budget=budget
            )
            if blocked > 0:
                self._set_throttled(network, now + blocked, now)
            return wait

    def refund(self, *, network: str, code: str, now: float, budget: Budget) -> None:
        with self._lock:
            state = self.backend.get(network_key(network)) or {}
            codes = dict(state.get("codes", {}))
            count = codes.pop(code, 0)
            if not count:
                return
            tokens = min(
                budget.capacity,
                refilled(state["tokens"], state["at"], now, budget) + count,
            )
            today = max(0, state["today"] - count)
            self.backend.set(
                network_key(network),
                {"tokens": tokens, "at": now, "today": today, "codes": codes},
                timeout=seconds_left_today(now),
            )
            guard_until = float(self.backend.get(GUARD_KEY) or 0)
            blocked = wait_seconds(
                tokens=tokens, today=today, guard_until=guard_until, now=now, budget=budget
            )
            self._set_throttled(network, now + blocked, now)

    def _set_throttled(self, network: str, until: float, now: float) -> None:
        throttled = {
            token: end
            for token, end in (self.backend.get(THROTTLED_KEY) or {}).items()
            if end > now
        }
        if until > now:
            throttled[network] = until
        else:
            throttled.pop(network, None)
        self.backend.set(THROTTLED_KEY, throttled, timeout=86400)

    def record_failure(self, *, now: float, budget: Budget) -> None:
        minute = int(now // 60)
        with self._lock:
            key = failures_key(minute)
            if not self.backend.add(key, 1, timeout=(WINDOW_MINUTES + 5) * 60):
                self.backend.incr(key)
            if self._failures(minute) >= budget.guard_threshold:
                self.backend.set(
                    GUARD_KEY, now + budget.guard_hold_seconds, timeout=budget.guard_hold_seconds
                )

    def _failures(self, minute: int) -> int:
        keys = [failures_key(minute - back) for back in range(WINDOW_MINUTES)]
        return sum(int(value) for value in self.backend.get_many(keys).values())

    def activity(self, *, now: float) -> Activity:
        throttled = self.backend.get(THROTTLED_KEY) or {}
        return Activity(
            failed_last_10_minutes=self._failures(int(now // 60)),
            throttled_networks=sum(1 for end in throttled.values() if end > now),
            guard_active=float(self.backend.get(GUARD_KEY) or 0) > now,
        )


# --- Redis ---------------------------------------------------------------------------------------

# A network's wait with this bucket and day; `guard_until`, `now`, `refill`, `cap` are locals of
# the script that includes it.
_WAIT_LUA = """
local function wait_for(tokens, today)
  local wait = 0
  if tokens < 1 then wait = (1 - tokens) * refill end
  if guard_until > now and today >= cap then wait = math.max(wait, guard_until - now) end
  return wait
end
"""

# KEYS: network state, network codes, guard, throttled set.
# ARGV: now, network token, code token, dry (1/0), capacity, refill seconds, guard daily cap, ttl.
_ADMIT_LUA = (
    """
local now = tonumber(ARGV[1])
local capacity, refill, cap = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'today')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
local today = tonumber(state[3]) or 0
tokens = math.min(capacity, tokens + (now - at) / refill)
local guard_until = tonumber(redis.call('GET', KEYS[3])) or 0
"""
    + _WAIT_LUA
    + """
local wait = wait_for(tokens, today)
if ARGV[4] == '1' then return string.format('%.6f', wait) end
local blocked = wait
if wait == 0 then
  tokens = tokens - 1
  today = today + 1
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'at', ARGV[1], 'today', today)
  redis.call('EXPIRE', KEYS[1], ARGV[8])
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[8])
  blocked = wait_for(tokens, today)
end
if blocked > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
  redis.call('ZADD', KEYS[4], string.format('%.6f', now + blocked), ARGV[2])
  redis.call('EXPIRE', KEYS[4], 86400)
end
return string.format('%.6f', wait)
"""
)

# KEYS: network state, network codes, guard, throttled set.
# ARGV: now, network token, code token, capacity, refill seconds, guard daily cap, ttl.
_REFUND_LUA = (
    """
local count = tonumber(redis.call('HGET', KEYS[2], ARGV[3]))
if not count then return 0 end
redis.call('HDEL', KEYS[2], ARGV[3])
local now = tonumber(ARGV[1])
local capacity, refill, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'today')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
local today = math.max(0, (tonumber(state[3]) or 0) - count)
tokens = math.min(capacity, tokens + (now - at) / refill + count)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'at', ARGV[1], 'today', today)
redis.call('EXPIRE', KEYS[1], ARGV[7])
local guard_until = tonumber(redis.call('GET', KEYS[3])) or 0
"""
    + _WAIT_LUA
    + """
local blocked = wait_for(tokens, today)
if blocked > 0 then
  redis.call('ZADD', KEYS[4], string.format('%.6f', now + blocked), ARGV[2])
else
  redis.call('ZREM', KEYS[4], ARGV[2])
end
return count
"""
)

# KEYS: this minute's failure counter and the 9 before it, then the guard.
# ARGV: now, threshold, hold seconds.
_FAILURE_LUA = """
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 900)
local total = 0
for i = 1, #KEYS - 1 do total = total + (tonumber(redis.call('GET', KEYS[i])) or 0) end
if total >= tonumber(ARGV[2]) then
  local hold = tonumber(ARGV[3])
  redis.call('SET', KEYS[#KEYS], string.format('%.6f', tonumber(ARGV[1]) + hold), 'EX', hold)
end
return total
"""


class _Script:
    """A Lua script sent by its SHA-1, and in full the first time a server does not know it."""

    def __init__(self, source: str) -> None:
        self.source = source
        # Redis names scripts by their SHA-1: an identifier, not a protection.
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.source, len(keys), *keys, *args)


_ADMIT = _Script(_ADMIT_LUA)
_REFUND = _Script(_REFUND_LUA)
_FAILURE = _Script(_FAILURE_LUA)


class RedisLedger:
    def __init__(self, backend: RedisCache) -> None:
        self.backend = backend

    def _key(self, key: str) -> str:
        return self.backend.make_and_validate_key(key)

    def _client(self) -> Any:
        return get_redis_connection("default")

    def _network_keys(self, network: str) -> list[str]:
        return [
            self._key(network_key(network)),
            self._key(codes_key(network)),
            self._key(GUARD_KEY),
            self._key(THROTTLED_KEY),
        ]

    def admit(self, *, network: str, code: str, now: float, dry: bool, budget: Budget) -> float:
        wait = _ADMIT(
            self._client(),
            self._network_keys(network),
            [
                repr(now),
                network,
                code,
                int(dry),
                budget.capacity,
                budget.refill_seconds,
                budget.guard_daily_cap,
                seconds_left_today(now),
            ],
        )
        return float(wait)

    def refund(self, *, network: str, code: str, now: float, budget: Budget) -> None:
        _REFUND(
            self._client(),
            self._network_keys(network),
            [
                repr(now),
                network,
                code,
                budget.capacity,
                budget.refill_seconds,
                budget.guard_daily_cap,
                seconds_left_today(now),
            ],
        )

    def record_failure(self, *, now: float, budget: Budget) -> None:
        minute = int(now // 60)
        keys = [self._key(failures_key(minute - back)) for back in range(WINDOW_MINUTES)]
        _FAILURE(
            self._client(),
            [*keys, self._key(GUARD_KEY)],
            [repr(now), budget.guard_threshold, budget.guard_hold_seconds],
        )

    def activity(self, *, now: float) -> Activity:
        minute = int(now // 60)
        keys = [self._key(failures_key(minute - back)) for back in range(WINDOW_MINUTES)]
        pipeline = self._client().pipeline(transaction=False)
        pipeline.mget(keys)
        pipeline.get(self._key(GUARD_KEY))
        pipeline.zcount(self._key(THROTTLED_KEY), f"({now!r}", "+inf")
        failures, guard_until, throttled = pipeline.execute()
        return Activity(
            failed_last_10_minutes=sum(int(value) for value in failures if value is not None),
            throttled_networks=int(throttled),
            guard_active=float(guard_until or 0) > now,
        )

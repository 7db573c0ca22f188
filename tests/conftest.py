"""The cast every test uses: staff of two regions in every role, and clients logged in as them."""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

from authority.accounts.italy import ITALY, load_regions
from authority.accounts.models import Province, Region, Role, TOTPDevice, User
from authority.accounts.provinces import forget_provinces

PASSWORD = "correct horse battery staple"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    """The suite runs on its own settings module (pyproject.toml): a DJANGO_SETTINGS_MODULE left
    in the environment would otherwise run it with production's delays and worker queue."""
    if django_settings.SETTINGS_MODULE != "tests.django_settings":
        raise pytest.UsageError(
            f"the tests need DJANGO_SETTINGS_MODULE=tests.django_settings, not"
            f" {django_settings.SETTINGS_MODULE!r}: unset it"
        )


def _shared_lock_path(config: pytest.Config) -> Path | None:
    """Under pytest-xdist (`dev.py test` runs one worker per CPU), a file every worker of this
    run opens; None in a single process."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    return Path(tempfile.gettempdir()) / f"authority-tests-{workerinput['testrunuid']}.lock"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A test marked `alone` (it restarts the PostgreSQL server every worker uses) runs while no
    other worker runs a test: it holds the run's lock exclusively, every other test holds it
    shared. After such a test each worker drops its database connections, which the restart
    killed. In a single process there is nothing to coordinate."""
    path = _shared_lock_path(item.config)
    if path is None:
        yield
        return
    alone = item.get_closest_marker("alone") is not None
    with path.open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            lock.seek(0)
            generation = lock.read()
            if generation != getattr(item.config, "_authority_generation", ""):
                item.config._authority_generation = generation  # type: ignore[attr-defined]
                if connection.vendor == "postgresql":
                    connections.close_all()
            yield
            if alone:
                lock.truncate(0)
                lock.write(os.urandom(8).hex())
                lock.flush()
                item.config._authority_generation = ""  # type: ignore[attr-defined]
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` need PostgreSQL: skipped on SQLite locally, an error in CI
    (where the SQLite pass sets AUTHORITY_SQLITE_RUN=1 because the PostgreSQL pass runs them).
    Tests marked `redis` need the Redis of TEST_REDIS_URL: skipped locally without it, an error in CI."""
    if "redis" in item.keywords and not _redis_reachable():
        if IN_CI:
            pytest.fail("CI must run this test against Redis (TEST_REDIS_URL is unset or down)")
        pytest.skip("needs Redis (set TEST_REDIS_URL=redis://127.0.0.1:6379/15)")
    if "postgres" not in item.keywords:
        return
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    if IN_CI and os.environ.get("AUTHORITY_SQLITE_RUN") != "1":
        pytest.fail("CI must run this test on PostgreSQL (DATABASE_URL is not set to it)")
    pytest.skip("needs PostgreSQL (set DATABASE_URL=postgresql://...)")


def _redis_reachable() -> bool:
    import redis

    url = os.environ.get("TEST_REDIS_URL", "")
    try:
        return bool(url) and bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> None:
    """Between transactional tests Django empties every table with one TRUNCATE, which the
    audit trail refuses on PostgreSQL (audit migration 0005): the test database allows it.
    tests/audit turns the trigger back on where it tests it."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_truncate")


@pytest.fixture(autouse=True)
def _fresh_process_state() -> None:
    """What outlives a test's rolled-back transaction starts afresh: the in-memory province
    table, and the (in-memory) cache with the throttles' counts."""
    forget_provinces()
    cache.clear()
    # A language activated by an earlier test in this thread (a page rendered in Italian with
    # no request around it) would otherwise translate this test's API messages.
    translation.deactivate()


_REGION_CODES = frozenset(code for code, _, _ in ITALY)
_PROVINCE_CODES = frozenset(code for _, _, provinces in ITALY for code, _ in provinces)


@pytest.fixture
def regions(db: None) -> None:
    """Italy's regions, loaded by a migration; transactional tests flush them, so load again.
    Two queries tell whether they are all there (after a rolled-back test they are): loading
    them asks one per province, which cost most tests more than the rest of their set-up."""
    region_codes = set(Region.objects.values_list("code", flat=True))
    province_codes = set(Province.objects.values_list("code", flat=True))
    if region_codes != _REGION_CODES or province_codes != _PROVINCE_CODES:
        load_regions(Region, Province)


@pytest.fixture
def lazio(regions: None) -> Region:
    return Region.objects.get(name="Lazio")


@pytest.fixture
def lombardia(regions: None) -> Region:
    return Region.objects.get(name="Lombardia")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(
        username: str, role: Role = Role.OPERATOR, region: Region | None = None, **extra: object
    ) -> User:
        user = User(
            username=username, role=role, region=region, first_name=username.title(), **extra
        )
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def operator(make_user: Callable[..., User], lazio: Region) -> User:
    return make_user("operator-lazio", Role.OPERATOR, lazio)


@pytest.fixture
def other_operator(make_user: Callable[..., User], lazio: Region) -> User:
    return make_user("operator2-lazio", Role.OPERATOR, lazio)


@pytest.fixture
def supervisor(make_user: Callable[..., User], lazio: Region) -> User:
    return make_user("supervisor-lazio", Role.SUPERVISOR, lazio)


@pytest.fixture
def foreign_operator(make_user: Callable[..., User], lombardia: Region) -> User:
    return make_user("operator-lombardia", Role.OPERATOR, lombardia)


@pytest.fixture
def foreign_supervisor(make_user: Callable[..., User], lombardia: Region) -> User:
    return make_user("supervisor-lombardia", Role.SUPERVISOR, lombardia)


@pytest.fixture
def administrator(make_user: Callable[..., User]) -> User:
    return make_user("admin", Role.ADMINISTRATOR, None)


def enroll_authenticator(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):0{device.digits}d}"


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    """A client that passed both factors as `user` (the login flow itself has its own tests)."""

    def sign_in(user: User) -> Client:
        device = TOTPDevice.objects.filter(
            user=user, confirmed=True
        ).first() or enroll_authenticator(user)
        client = Client()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return sign_in


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def staff(
    operator: User,
    foreign_operator: User,
    supervisor: User,
    foreign_supervisor: User,
    administrator: User,
) -> dict[str, User]:
    """The permission matrices' actors by name (tests/matrix.py ACTORS, anonymous aside)."""
    return {
        "operator": operator,
        "foreign_operator": foreign_operator,
        "supervisor": supervisor,
        "foreign_supervisor": foreign_supervisor,
        "administrator": administrator,
    }


@pytest.fixture
def one_throttle_window() -> Iterator[None]:
    """Time stands still inside one calendar minute: the device API's throttles count in
    fixed one-minute windows, and a test whose requests straddled two would see the count
    start again. The minute is the last whole one (codes made now are still valid), an hour
    earlier near midnight UTC (the throttle's client key rotates daily)."""
    start = datetime.now(UTC).replace(second=5, microsecond=0) - timedelta(minutes=1)
    if start.hour == 23:
        start -= timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        yield


@contextmanager
def log_of(name: str) -> Iterator[list[str]]:
    """The messages the logger `name` (and its children) writes meanwhile, caught on the logger
    itself: pytest's caplog listens at the root, which a Celery worker set-up or a logging
    configuration run by another test in the same process can cut off (propagation, a level, a
    disabled logger)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    handler = Collect(level=logging.DEBUG)
    saved = (logger.level, logger.disabled)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.level, logger.disabled = saved

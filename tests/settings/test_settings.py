"""Settings come from the environment; bad values and development secrets stop start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from authority.env import ConfigurationError, env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "AUTHORITY_MODE": "production",
    "SECRET_KEY": "a" * 20 + "-real-production-secret-for-tests-only",
    "OTP_HMAC_KEY": "b" * 20 + "-real-production-secret-for-tests-only",
    "SIGNING_KEY_ENCRYPTION_KEY": "c" * 20 + "-real-production-secret-for-tests-only",
    "AUDIT_HMAC_KEY": "d" * 20 + "-real-production-secret-for-tests-only",
    "AUDIT_CHECKPOINT_DIR": "/var/lib/authority/audit-checkpoints",
    "ALLOWED_HOSTS": "authority.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgresql://authority@127.0.0.1/authority",
    "OPERATIONAL_INFO_VERIFIER": "authority.ingestion.analytics.attestation.DevelopmentVerifier",
    "SITE_URL": "https://authority.example.org",
    "EMAIL_HOST": "smtp.example.org",
    "DEFAULT_FROM_EMAIL": "Authority <noreply@authority.example.org>",
    "TRUSTED_PROXY_COUNT": "1",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV
        and k != "AUTHORITY_TESTING"
        and not k.startswith(("DJANGO_", "CELERY_"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_bool_refuses_typos(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ConfigurationError, match="FLAG='ture' is not a boolean"):
        env_bool("FLAG", False)


def test_env_int_refuses_out_of_range(monkeypatch):
    monkeypatch.setenv("COUNT", "0")
    with pytest.raises(ConfigurationError, match="below the minimum"):
        env_int("COUNT", 5, minimum=1)
    monkeypatch.setenv("COUNT", "five")
    with pytest.raises(ConfigurationError, match="not an integer"):
        env_int("COUNT", 5)


def test_secrets_can_come_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env_str("SOME_SECRET") == "from-a-file"
    monkeypatch.setenv("SOME_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        env_str("SOME_SECRET")


def test_production_refuses_to_start_with_development_secrets():
    env = {**PRODUCTION_ENV, "SECRET_KEY": "dev-insecure-django-change-me-in-production-0123456789"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be a real secret" in result.stderr


def test_production_refuses_to_start_without_secrets():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "OTP_HMAC_KEY"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "OTP_HMAC_KEY must be set" in result.stderr


def test_a_typo_in_a_variable_stops_start_up():
    result = run_manage("check", SESSION_IDLE_MINUTES="thirty")
    assert result.returncode != 0
    assert "SESSION_IDLE_MINUTES='thirty' is not an integer" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_must_name_its_attestation_verifier():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "OPERATIONAL_INFO_VERIFIER"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "OPERATIONAL_INFO_VERIFIER must be set" in result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("EMAIL_HOST", "EMAIL_HOST must name the SMTP server in production"),
        ("SITE_URL", "SITE_URL must be set"),
        ("DEFAULT_FROM_EMAIL", "DEFAULT_FROM_EMAIL must be set"),
    ],
)
def test_production_refuses_to_start_without_e_mail(missing, message):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_links_are_https_and_smtp_passwords_never_cross_in_clear(tmp_path):
    result = run_manage("check", **{**PRODUCTION_ENV, "SITE_URL": "http://authority.example.org"})
    assert "SITE_URL must be the site's https:// address" in result.stderr
    password = tmp_path / "smtp-password"
    password.write_text("a-mailbox-password\n")
    env = {**PRODUCTION_ENV, "EMAIL_HOST_PASSWORD_FILE": str(password), "EMAIL_SECURITY": "none"}
    result = run_manage("check", **env)
    assert "EMAIL_HOST_PASSWORD would cross the network in clear" in result.stderr
    assert "a-mailbox-password" not in result.stderr
    env["EMAIL_SECURITY"] = "tls"
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.EMAIL_USE_SSL, s.EMAIL_PORT, s.EMAIL_HOST_PASSWORD == 'a-mailbox-password')",
        **env,
    )
    assert result.stdout.splitlines()[-1].split() == ["True", "465", "True"], result.stderr


def test_the_product_s_settings_keep_their_production_defaults_under_pytest():
    """`dev.py run` and production load authority.settings, which has no test mode: started
    from inside a test run, it still holds answers to the uniform delay, queues tasks for the
    worker and hashes passwords slowly (the suite's own values are in tests/django_settings.py)."""
    program = (
        "from django.conf import settings as s; print(s.DEVICE_API_MIN_RESPONSE_MS,"
        " s.DEVICE_API_RESPONSE_SPREAD_MS, s.CELERY_TASK_ALWAYS_EAGER,"
        " s.PASSWORD_HASHERS[0].rsplit('.', 1)[-1], s.CACHES['default']['BACKEND'])"
    )
    result = run_manage("shell", "-c", program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "150",
        "100",
        "False",
        "PBKDF2PasswordHasher",
        "django.core.cache.backends.db.DatabaseCache",
    ]


def test_production_refuses_any_test_mode():
    result = run_manage("check", **{**PRODUCTION_ENV, "AUTHORITY_TESTING": "1"})
    assert result.returncode != 0
    assert "AUTHORITY_TESTING is no longer read" in result.stderr
    result = run_manage(
        "check", **{**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "tests.django_settings"}
    )
    assert result.returncode != 0
    assert "tests.django_settings cannot be used with AUTHORITY_MODE=production" in result.stderr


def test_production_must_say_how_many_proxies_stand_in_front():
    """Review 12, finding 6: with the default 0 behind a proxy, every phone is one network."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "TRUSTED_PROXY_COUNT"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be set in production" in result.stderr
    # 0 is allowed when said: nothing in front of gunicorn.
    assert run_manage("check", **{**env, "TRUSTED_PROXY_COUNT": "0"}).returncode == 0
    # Development keeps its default.
    assert run_manage("check").returncode == 0

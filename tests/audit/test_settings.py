"""AUDIT_HMAC_KEY is a secret like the others: production refuses to start without a real one."""

from __future__ import annotations

from tests.settings.test_settings import PRODUCTION_ENV, run_manage


def test_production_refuses_to_start_without_the_audit_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_HMAC_KEY"}

    result = run_manage("check", **env)

    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must be set" in result.stderr


def test_production_refuses_the_development_audit_key():
    env = {
        **PRODUCTION_ENV,
        "AUDIT_HMAC_KEY": "dev-insecure-audit-hmac-change-me-in-production-0123456789",
    }

    result = run_manage("check", **env)

    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must be a real secret" in result.stderr


def test_the_audit_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "audit-key"
    secret.write_text("d" * 20 + "-real-production-secret-for-tests-only\n")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_HMAC_KEY"}

    result = run_manage("check", AUDIT_HMAC_KEY_FILE=str(secret), **env)

    assert result.returncode == 0, result.stderr


def test_two_checkpoint_sinks_at_once_are_refused(tmp_path):
    result = run_manage(
        "check", AUDIT_CHECKPOINT_DIR=str(tmp_path), AUDIT_CHECKPOINT_S3_BUCKET="audit"
    )

    assert result.returncode != 0
    assert "Set AUDIT_CHECKPOINT_DIR or AUDIT_CHECKPOINT_S3_BUCKET, not both" in result.stderr


def test_production_refuses_the_batch_storage_as_the_checkpoint_sink():
    # Retention deletes from the batch storage and phones download from it: not a sink a
    # database administrator must be unable to have rewritten.
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_CHECKPOINT_DIR"}

    result = run_manage("check", **env)

    assert result.returncode != 0
    assert "Audit checkpoints need a sink of their own in production" in result.stderr


def test_production_takes_the_batch_storage_as_the_sink_only_when_told_so():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_CHECKPOINT_DIR"}

    result = run_manage("check", AUDIT_CHECKPOINT_IN_BATCH_STORAGE="true", **env)

    assert result.returncode == 0, result.stderr


def test_production_starts_with_a_checkpoint_bucket_of_its_own():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_CHECKPOINT_DIR"}

    result = run_manage("check", AUDIT_CHECKPOINT_S3_BUCKET="audit-checkpoints", **env)

    assert result.returncode == 0, result.stderr

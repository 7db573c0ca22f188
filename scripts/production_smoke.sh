#!/usr/bin/env bash
# Follows docs/operations.md literally against local PostgreSQL and Redis, with
# the batch files on an S3-compatible server (moto, started here as its own process): migrate,
# collectstatic, gunicorn with gunicorn.conf.py, a Celery worker and beat. Then
# scripts/production_smoke.py drives the scenario (an invitation used to set a password, a
# wrong password, phones checking codes and uploading keys, publication, download compared
# with the object store, retention deleting the file, malformed requests), the processes
# stop, and authority.operations.logscan looks through every log they wrote for addresses
# and for every secret the scenario used (docs/operations-logging.md).
# Usage: scripts/production_smoke.sh   (needs DATABASE_URL and REDIS_URL; run by .ci/run)
# SMOKE_BATCH_STORAGE=filesystem keeps the files on disk instead; without moto installed that
# is what happens outside CI (in CI, CI=true, a missing moto is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database}"
: "${REDIS_URL:?set REDIS_URL}"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=${SMOKE_PORT:-$(free_port)}
work=$(mktemp -d)
logs="$work/logs"  # every log file of every process of ours: all of them are scanned
mkdir -p "$logs"
secret() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))'; }
export AUTHORITY_MODE=production
export SECRET_KEY=$(secret) OTP_HMAC_KEY=$(secret) SIGNING_KEY_ENCRYPTION_KEY=$(secret)
export AUDIT_HMAC_KEY=$(secret)
# Production wants a checkpoint sink of its own (docs/audit-trail.md): here a folder.
export AUDIT_CHECKPOINT_DIR="$work/audit-checkpoints"
export ALLOWED_HOSTS=127.0.0.1,localhost AUTHORITY_VAR_DIR="$work/var"
export KEYS_EMBARGO_MINUTES=0 KEYS_MIN_PER_FILE=50 GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS=2
# One proxy in front: the device API reads the phone's address from X-Forwarded-For (which
# the scenario fills), and no log may show it.
export TRUSTED_PROXY_COUNT=1
export METRICS_TOKEN=$(secret)
# The scenario e-mails nothing (its invitation is made through the service, without the e-mail
# the page sends); production only needs the server and the site's address named.
export SITE_URL="https://localhost" EMAIL_HOST=127.0.0.1 DEFAULT_FROM_EMAIL=noreply@localhost
# Real deployments plug in Play Integrity / DeviceCheck; the smoke test names the development one.
export OPERATIONAL_INFO_VERIFIER=authority.ingestion.analytics.attestation.DevelopmentVerifier
export PATH="$PWD/.venv/bin:$PATH"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${SMOKE_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

storage=${SMOKE_BATCH_STORAGE:-s3}
if [ "$storage" = s3 ] && ! command -v moto_server >/dev/null; then
  if [ "${CI:-}" = true ]; then
    echo "moto_server is missing: CI runs the smoke test on the S3-compatible server" >&2; exit 1
  fi
  echo "moto_server is not installed: batch files on disk this time" >&2
  storage=filesystem
fi
if [ "$storage" = s3 ]; then
  S3_PORT=$(free_port)
  # moto stands in for the object store: its own log (with addresses) is not one of ours.
  moto_server -H 127.0.0.1 -p "$S3_PORT" >"$work/moto.log" 2>&1 & pids+=($!)
  export BATCH_STORAGE=s3 BATCH_S3_BUCKET=smoke-batches BATCH_S3_PREFIX=batches
  export BATCH_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" BATCH_S3_REGION=eu-south-1
  export BATCH_S3_ACCESS_KEY_ID=smoke-access-key BATCH_S3_SECRET_ACCESS_KEY=$(secret)
  python - <<'PY'
import os, time

import boto3
from botocore.exceptions import EndpointConnectionError

s3 = boto3.client("s3", endpoint_url=os.environ["BATCH_S3_ENDPOINT_URL"], region_name=os.environ["BATCH_S3_REGION"],
                  aws_access_key_id=os.environ["BATCH_S3_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["BATCH_S3_SECRET_ACCESS_KEY"])
for _ in range(60):
    try:
        s3.list_buckets()
        break
    except EndpointConnectionError:
        time.sleep(0.5)
# What operations creates once (docs/operations-storage.md): a private bucket, no versioning.
s3.create_bucket(Bucket=os.environ["BATCH_S3_BUCKET"], CreateBucketConfiguration={"LocationConstraint": os.environ["BATCH_S3_REGION"]})
s3.put_public_access_block(Bucket=os.environ["BATCH_S3_BUCKET"], PublicAccessBlockConfiguration={
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
PY
  echo "batch storage: S3-compatible server (moto) on port $S3_PORT"
else
  export BATCH_STORAGE=filesystem BATCH_STORAGE_DIR="$work/batches"
  echo "batch storage: files in $BATCH_STORAGE_DIR"
fi

{
  python manage.py migrate --noinput -v 0
  python manage.py collectstatic --noinput -v 0
  python manage.py check --deploy --fail-level WARNING
  python manage.py rotate_signing_key
} >"$logs/manage.log" 2>&1 || { cat "$logs/manage.log" >&2; exit 1; }
gunicorn authority.wsgi --config gunicorn.conf.py >"$logs/gunicorn-access.log" 2>"$logs/gunicorn-error.log" & pids+=($!)
celery -A tasks worker --loglevel=INFO --concurrency=2 >"$logs/worker.log" 2>&1 & pids+=($!)
celery -A tasks beat --loglevel=INFO --schedule "$work/beat-schedule" >"$logs/beat.log" 2>&1 & pids+=($!)

python scripts/production_smoke.py --port "$PORT" --secrets-out "$work/secrets.json" \
  --requests-out "$work/requests" || {
  tail -n 30 "$logs"/*.log >&2; exit 1
}

# The audit trail verifies against a checkpoint written to the object store (moto still runs).
{ python manage.py write_audit_checkpoint && python manage.py verify_audit_chain; } >>"$logs/manage.log" 2>&1 \
  || { tail -n 30 "$logs/manage.log" >&2; echo "production smoke: the audit trail does not verify" >&2; exit 1; }

# Stop our processes (moto last) and let them finish writing before reading their logs.
for pid in "${pids[@]:1}" "${pids[0]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
pids=()

fail() { echo "production smoke: $1" >&2; exit 1; }
python -m authority.operations.logscan --secrets "$work/secrets.json" "$logs"/*.log \
  || fail "a log holds an address or a secret (above: file, line, what)"
# ... and it had something to read.
access_lines=$(grep -cE '" [0-9]{3} ' "$logs/gunicorn-access.log" || true)
[ "$access_lines" -ge "$(cat "$work/requests")" ] \
  || fail "gunicorn logged $access_lines requests of the $(cat "$work/requests") made"
grep -q 'Invalid request from ip=\[address\]' "$logs/gunicorn-error.log" \
  || fail "gunicorn's error log does not show the malformed request (redacted)"
grep -q "Invalid HTTP Header: 'Authorization ApiKey \[redacted\]'" "$logs/gunicorn-error.log" \
  || fail "gunicorn's error log does not show the header that lost its colon (redacted)"
grep -q 'WARNING django.security.DisallowedHost: Invalid HTTP_HOST header' "$logs/gunicorn-error.log" \
  || fail "the foreign Host header is not one warning line"
! grep -q 'Traceback' "$logs/gunicorn-error.log" || fail "gunicorn's error log holds a traceback"
grep -q 'beat: Starting' "$logs/beat.log" || fail "beat did not start"
grep -q 'apply_retention.*succeeded' "$logs/worker.log" || fail "the worker logged no retention"
echo "production smoke: OK"

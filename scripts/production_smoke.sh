#!/usr/bin/env bash
# Follows the README's production section literally against local PostgreSQL and Redis:
# migrate, collectstatic, gunicorn with gunicorn.conf.py, a Celery worker and beat. Then a phone
# uploads keys through gunicorn, the worker publishes them, and the index lists the batch.
# Usage: scripts/production_smoke.sh   (needs DATABASE_URL and REDIS_URL; run by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database}"
: "${REDIS_URL:?set REDIS_URL}"
PORT=${SMOKE_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
work=$(mktemp -d)
secret() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))'; }
export AUTHORITY_MODE=production
export SECRET_KEY=$(secret) OTP_HMAC_KEY=$(secret) SIGNING_KEY_ENCRYPTION_KEY=$(secret)
export AUDIT_HMAC_KEY=$(secret)
export ALLOWED_HOSTS=127.0.0.1,localhost AUTHORITY_VAR_DIR="$work/var" BATCH_STORAGE_DIR="$work/batches"
export KEYS_EMBARGO_MINUTES=0 KEYS_MIN_PER_FILE=50 GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS=2
export METRICS_TOKEN=$(secret)
# Real deployments plug in Play Integrity / DeviceCheck; the smoke test names the development one.
export OPERATIONAL_INFO_VERIFIER=authority.dashboard.attestation.DevelopmentVerifier
export PATH="$PWD/.venv/bin:$PATH"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

python manage.py migrate --noinput -v 0
python manage.py collectstatic --noinput -v 0
python manage.py check --deploy --fail-level WARNING
python manage.py rotate_signing_key >/dev/null
gunicorn authority.wsgi --config gunicorn.conf.py >"$work/web.log" 2>&1 & pids+=($!)
celery -A tasks worker --loglevel=INFO --concurrency=2 >"$work/worker.log" 2>&1 & pids+=($!)
celery -A tasks beat --loglevel=INFO --schedule "$work/beat-schedule" >"$work/beat.log" 2>&1 & pids+=($!)

python - "$PORT" <<'PY'
import base64, json, os, sys, time, urllib.error, urllib.request
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
django.setup()
from django.utils import timezone

from authority.accounts.models import Region, Role, User
from authority.formats.otp import generate_otp, otp_sha256_hex
from authority.otps.services import authorize_otp

base = f"http://127.0.0.1:{sys.argv[1]}"
https = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy adds


def call(path, body=None, headers=None):
    request = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={**https, **(headers or {})}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


for _ in range(60):
    try:
        status, body, _ = call("/health")
        if status == 200:
            break
    except OSError:
        pass
    time.sleep(1)
status, body, _ = call("/health")
assert status == 200, body
print("health:", json.loads(body)["checks"])

status, _, headers = call("/accounts/login/")
assert status == 200 and "Strict-Transport-Security" in headers and "secure" in headers.get("Set-Cookie", "").lower(), headers

operator, _ = User.objects.get_or_create(username="smoke-operator", defaults={"role": Role.OPERATOR, "region": Region.objects.get(name="Lazio")})
code = generate_otp()
authorize_otp(code=code, onset_date=timezone.localdate() - timedelta(days=2), operator=operator)
today = int(time.time()) // 600 // 144 * 144
teks = [{"key_data": base64.b64encode(os.urandom(16)).decode(), "rolling_start_number": today - 144 * d, "rolling_period": 144} for d in range(1, 8)]
upload = {"province": "RM", "teks": teks, "exposure_detection_summaries": [], "padding": "ab" * 32}
status, body, _ = call("/v1/ingestion/upload", upload, {"Content-Type": "application/json", "Authorization": f"Bearer {otp_sha256_hex(code)}", "Immuni-Dummy-Data": "0", "Immuni-Client-Clock": str(int(time.time()))})
assert status == 204, body
print("upload through gunicorn: 204")

from tasks.publishing import publish_keys
from authority.keys.models import PublicationRun

run = PublicationRun.objects.create(trigger=PublicationRun.Trigger.MANUAL)
publish_keys.delay(run.pk)  # through Redis to the worker process
for _ in range(60):
    run.refresh_from_db()
    if run.finished_at:
        break
    time.sleep(1)
assert run.status == "succeeded", (run.status, run.message)
status, body, _ = call("/v1/keys/index")
assert status == 200, body
index = json.loads(body)
status, batch, headers = call(f"/v1/keys/{index['newest']}")
assert status == 200 and headers["Content-Type"] == "application/zip" and "immutable" in headers["Cache-Control"]
print("published by the worker and served:", index, len(batch), "bytes")
status, body, _ = call("/metrics", headers={"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"})
assert status == 200 and b"authority_last_batch_age_seconds" in body
PY
access_lines=$(grep -E '" [0-9]{3} ' "$work/web.log" || true)
[ -n "$access_lines" ] || { echo "gunicorn wrote no access log" >&2; exit 1; }
if grep -q '127\.0\.0\.1' <<<"$access_lines"; then
  echo "the access log holds client addresses" >&2; exit 1
fi
grep -q 'beat: Starting' "$work/beat.log" || { echo "beat did not start" >&2; cat "$work/beat.log"; exit 1; }
python manage.py write_audit_checkpoint >/dev/null && python manage.py verify_audit_chain
echo "production smoke: OK"

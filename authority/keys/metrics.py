"""Names of the daily counters about keys and batches."""

from __future__ import annotations

KEYS_STORED = "keys_stored"  # keys accepted from uploads (per region, on the upload's day)
KEYS_PUBLISHED = "keys_published"  # real keys that went into a published batch (per region)
PADDING_KEYS_PUBLISHED = "padding_keys_published"  # random look-alike keys (national)
BATCHES_PUBLISHED = "batches_published"  # files added to the index (national)
# Files added to a country's series (/v1/keys/eu/{country}; bucket: the country).
COUNTRY_BATCHES_PUBLISHED = "country_batches_published"
# Keys received from the European gateway that went into a published file, by series (bucket:
# "" the national files, else the country of /v1/keys/eu/{country}); not in KEYS_PUBLISHED.
RECEIVED_KEYS_PUBLISHED = "received_keys_published"

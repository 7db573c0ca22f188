"""Names of the daily counters about the federation (national, split by country or reason)."""

from __future__ import annotations

KEYS_SHARED = "federation_keys_shared"  # our keys stored by the gateway (bucket: "")
KEYS_SHARED_WITH = "federation_keys_shared_with"  # the same, once per visited country (bucket)
KEYS_RECEIVED = "federation_keys_received"  # foreign keys kept for our exports (bucket: origin)
KEYS_INVALID = "federation_keys_invalid"  # verified, but not valid for phones (bucket: origin)
KEYS_REFUSED = "federation_keys_refused"  # in a part that did not verify (bucket: origin)
CHUNKS_REFUSED = "federation_chunks_refused"  # parts of batches refused (bucket: reason)
UPLOADS_REFUSED = "federation_uploads_refused"  # our uploads the gateway refused (bucket: status)
UPLOADS_HELD = "federation_uploads_held"  # our uploads held for an operator (bucket: "")

"""The apps' operational info (POST /v1/analytics/...): attested, counted once a month, never stored."""

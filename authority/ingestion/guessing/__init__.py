"""Bounds on guessing patients' codes through the device API, per network and nationally.

docs/guessing.md explains the policy and its arithmetic; `services` decides each request,
`ledger` keeps the counts (in Redis, atomically, in production), `selectors` reads them.
"""

"""Exposure keys, signing keys and the publication of signed GAEN batches."""

"""GAEN export files (export.bin, export.sig, the zip) and their signing; no Django."""

"""Baseline throughput of building signed GAEN export zips; prints one JSON line.

Usage: .venv/bin/python benchmarks/gaen_baseline.py [--keys 100000|1000000] [--streaming|--rows]

The timed part is what a publication run does once it has the keys: build the protobuf
export, serialize it, sign it and zip it. In the default one-shot mode the random keys are
made (untimed) as a list first, like a queryset evaluated into memory. With --streaming they
come from a lazy generator already in key order, like a database cursor, so the peak memory
shows what the streaming path saves (and the timing includes making the keys). With --rows
the same keys are plain tuples (untimed), sorted and encoded by iter_export_bin_rows, the
encoder publication uses: no protobuf call per key. Above 750,000 keys the keys are split
into several files, as the format caps a file at that.

The one-shot mode is the reference of issue 8: publication from the database should be no
slower.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import astuple
from itertools import islice
from pathlib import Path

# Run as a script from anywhere: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authority.formats.gaen.export import (
    MAX_KEYS_PER_FILE,
    ExportMetadata,
    ExposureKey,
    SignatureInfo,
)
from authority.formats.gaen.signing import (
    generate_private_key,
    make_signed_export,
    write_signed_export_zip,
    write_signed_export_zip_rows,
)

INTERVALS_PER_DAY = 144


def random_key(rng: random.Random, key_data: bytes) -> ExposureKey:
    today = int(time.time()) // 600 // INTERVALS_PER_DAY * INTERVALS_PER_DAY
    return ExposureKey(
        key_data=key_data,
        rolling_start_interval_number=today - INTERVALS_PER_DAY * rng.randrange(14),
        report_type=1,
        days_since_onset_of_symptoms=rng.randrange(-14, 15),
    )


def random_keys(count: int, seed: int) -> list[ExposureKey]:
    rng = random.Random(seed)
    return [random_key(rng, rng.randbytes(16)) for _ in range(count)]


def sorted_random_keys(count: int, seed: int) -> Iterator[ExposureKey]:
    """Keys in ascending key order, made one at a time: random gaps between key values."""
    rng = random.Random(seed)
    gap = 2**128 // (count + 1)
    value = 0
    for _ in range(count):
        value += rng.randrange(1, gap)
        yield random_key(rng, value.to_bytes(16, "big"))


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="number of keys (default 100000)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--streaming", action="store_true", help="use the streaming encoder and zip writer"
    )
    mode.add_argument("--rows", action="store_true", help="keys as tuples, the row encoder")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    info = SignatureInfo(verification_key_version="v1", verification_key_id="222")
    signer = (info, generate_private_key())
    now = int(time.time())
    metadata = ExportMetadata(start_timestamp=now - 86_400, end_timestamp=now, region="222")
    file_sizes = [
        min(MAX_KEYS_PER_FILE, args.keys - first)
        for first in range(0, args.keys, MAX_KEYS_PER_FILE)
    ]
    keys = None if args.streaming else random_keys(args.keys, args.seed)
    rows = [astuple(key)[:6] for key in keys] if args.rows and keys else None
    if rows is not None:
        keys = None
    memory_before_mb = peak_memory_mb()

    started = time.perf_counter()
    zip_sizes = []
    if rows is not None:
        rows.sort()
        for first in range(0, args.keys, MAX_KEYS_PER_FILE):
            out = io.BytesIO()
            file_rows = rows[first : first + MAX_KEYS_PER_FILE]
            write_signed_export_zip_rows(out, metadata, file_rows, [signer])
            zip_sizes.append(len(out.getvalue()))
    elif keys is None:
        lazy_keys = sorted_random_keys(args.keys, args.seed)
        for size in file_sizes:
            out = io.BytesIO()
            write_signed_export_zip(out, metadata, islice(lazy_keys, size), [signer])
            zip_sizes.append(len(out.getvalue()))
    else:
        for first in range(0, args.keys, MAX_KEYS_PER_FILE):
            file_keys = keys[first : first + MAX_KEYS_PER_FILE]
            zip_sizes.append(len(make_signed_export(metadata, file_keys, [signer])))
    seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "benchmark": "gaen_export",
                "mode": "streaming" if args.streaming else "rows" if args.rows else "one-shot",
                "keys": args.keys,
                "files": len(zip_sizes),
                "zip_bytes": sum(zip_sizes),
                "seconds": round(seconds, 3),
                "keys_per_second": round(args.keys / seconds) if seconds else None,
                "peak_memory_mb": peak_memory_mb(),
                "peak_memory_before_export_mb": memory_before_mb,
                "python": platform.python_version(),
                "machine": platform.platform(),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Settings that differ by app build: a version's base document with overrides for ranges of
builds, resolved into the document each build is served.

Immuni's configuration service stored each setting with a `starting_build` and served, per
name, the value of the highest starting build not above the app's. Here an override names a
range of builds (from, to, either open) and the top-level settings it replaces; overrides apply
in order, so a later one wins where two ranges meet. "Builds from N on" is Immuni's case;
"builds up to N" keeps old apps on the values they understand.

Plain code, no Django: the endpoint's cache and the validation both cut the build axis into
the few segments where the served document is the same, and build every segment once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIRST_BUILD = 1


@dataclass(frozen=True)
class Segment:
    first_build: int
    last_build: int
    document: dict[str, Any]


def covers(override: dict[str, Any], build: int) -> bool:
    low = override.get("from_build") or FIRST_BUILD
    high = override.get("to_build")
    return low <= build and (high is None or build <= high)


def effective_document(
    document: dict[str, Any], overrides: list[dict[str, Any]], build: int
) -> dict[str, Any]:
    """The document build `build` is served: the base with every override covering it."""
    result = dict(document)
    for override in overrides:
        if covers(override, build):
            result.update(override.get("values", {}))
    return result


def segment_starts(overrides: list[dict[str, Any]], last_build: int) -> list[int]:
    """The builds where the served document may change: 1 and every override's edges."""
    starts = {FIRST_BUILD}
    for override in overrides:
        if override.get("from_build"):
            starts.add(int(override["from_build"]))
        if override.get("to_build") and int(override["to_build"]) < last_build:
            starts.add(int(override["to_build"]) + 1)
    return sorted(start for start in starts if FIRST_BUILD <= start <= last_build)


def segments(
    document: dict[str, Any], overrides: list[dict[str, Any]], *, last_build: int
) -> list[Segment]:
    """Builds 1 to `last_build` (the platform's highest, catalogue.MAX_BUILD) cut where the
    served document changes, neighbours with the same document joined. As many segments as
    the overrides make, whatever the range: the Android range is in the billions."""
    starts = segment_starts(overrides, last_build)
    result: list[Segment] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else last_build
        served = effective_document(document, overrides, start)
        if result and result[-1].document == served:
            result[-1] = Segment(result[-1].first_build, end, served)
        else:
            result.append(Segment(start, end, served))
    return result

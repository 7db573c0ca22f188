"""The province codes the apps send, looked up in memory: every device request names one.

107 rows of reference data that change perhaps once a decade are read once per process and
kept for PROVINCE_TABLE_SECONDS (60). An edit in the admin is seen at once by the process that
made it and by the others within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from authority.accounts.models import Province, Region

PROVINCE_TABLE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ProvinceRef:
    code: str
    region_id: int


_table: tuple[float, dict[str, ProvinceRef]] | None = None
_loading = threading.Lock()


def province_by_code(code: str) -> ProvinceRef | None:
    """The province with this two-letter code (any case), or None when there is none."""
    return _provinces().get(code.upper())


def _provinces() -> dict[str, ProvinceRef]:
    global _table
    table = _table
    if table is not None and time.monotonic() - table[0] < PROVINCE_TABLE_SECONDS:
        return table[1]
    with _loading:  # one query per expiry, not one per waiting thread
        if _table is not table and _table is not None:
            return _table[1]
        rows = Province.objects.values_list("code", "region_id")
        provinces = {code: ProvinceRef(code, region_id) for code, region_id in rows}
        _table = (time.monotonic(), provinces)
        return provinces


def forget_provinces() -> None:
    """Read the table again on next use (after an edit; tests after they roll one back)."""
    global _table
    _table = None


@receiver([post_save, post_delete], sender=Province)
@receiver([post_save, post_delete], sender=Region)
def _province_changed(**kwargs: Any) -> None:
    forget_provinces()

"""Fill the daily counters with a realistic history (development mode only)."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from authority.accounts.models import Region, Role, User
from authority.dashboard.demo import DemoRegion, history
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day

BATCH_SIZE = 5000


class Command(BaseCommand):
    help = (
        "Make a demo history of daily counters for every region, ending yesterday"
        " (development mode only; does nothing if counters already exist, unless --replace)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="days of history (DEMO_HISTORY_DAYS, 365)"
        )
        parser.add_argument("--seed", type=int, default=2020, help="random seed")
        parser.add_argument(
            "--replace", action="store_true", help="delete every counter in the period first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production mode.")
        days: int = options["days"] or settings.DEMO_HISTORY_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1")
        until = local_day() - timedelta(days=1)
        since = until - timedelta(days=days - 1)
        existing = DailyCounter.objects.filter(day__gte=since, day__lte=until)
        if existing.exists() and not options["replace"]:
            self.stdout.write(
                "Counters already exist for this period; nothing done (see --replace)."
            )
            return
        staff: dict[int, list[int]] = {}
        for pk, region_id in User.objects.filter(
            role__in=[Role.OPERATOR, Role.SUPERVISOR], is_active=True
        ).values_list("pk", "region_id"):
            staff.setdefault(region_id, []).append(pk)
        regions = [
            DemoRegion(pk=pk, code=code, operator_ids=sorted(staff.get(pk, [])))
            for pk, code in Region.objects.order_by("code").values_list("pk", "code")
        ]
        counters = history(regions, since=since, until=until, seed=options["seed"])
        created = 0
        with transaction.atomic():
            if options["replace"]:
                existing.delete()
            while batch := list(islice(counters, BATCH_SIZE)):
                DailyCounter.objects.bulk_create(batch)
                created += len(batch)
        self.stdout.write(
            f"Created {created} daily counters for {len(regions)} regions, {since} to {until}."
        )

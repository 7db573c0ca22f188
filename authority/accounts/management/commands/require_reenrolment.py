"""Require people to set up their authenticator again (docs/upgrading.md: after the upgrade
that encrypted the seeds, the backups taken before it hold them in clear)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.accounts.services.reenrolment import UnknownPeople, require_reenrolment


class Command(BaseCommand):
    help = (
        "Remove the authenticators and backup codes of everyone (--all) or of the people "
        "named: each sets up a new authenticator at their next login. Audited per person; "
        "--all also ends every session."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--all", action="store_true", help="Everyone who has an authenticator.")
        who.add_argument("--username", action="append", help="One person (repeat for more).")
        parser.add_argument("--by", required=True, help="Who requires it (name or username).")
        parser.add_argument("--reason", required=True, help="Why, for the audit trail.")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm --all (everyone is signed out)."
        )

    def handle(self, *args: object, **options: Any) -> None:
        if options["all"] and not options["yes"]:
            raise CommandError(
                "--all signs everyone out and makes everyone enrol a new authenticator: "
                "add --yes to confirm."
            )
        by, reason = options["by"].strip(), options["reason"].strip()
        if not by or not reason:
            raise CommandError("--by and --reason cannot be empty.")
        try:
            done = require_reenrolment(
                requested_by=by,
                reason=reason,
                usernames=None if options["all"] else options["username"],
            )
        except UnknownPeople as exc:
            raise CommandError(f"No account for: {exc}. Nothing was reset.") from exc
        message = f"{done.people} people will set up a new authenticator at their next login."
        if options["all"]:
            message += f" {done.sessions_ended} sessions ended."
        self.stdout.write(self.style.SUCCESS(message))

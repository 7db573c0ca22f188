"""Create the embedded broker's folders before a worker or the web server uses them."""

from django.core.management.base import BaseCommand

from tasks.celery import ensure_broker_folders


class Command(BaseCommand):
    help = "Create the folders of the embedded (filesystem) Celery broker."

    def handle(self, *args: object, **options: object) -> None:
        ensure_broker_folders()

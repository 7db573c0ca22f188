"""Celery's worker and beat log through RedactSecrets like every other process, and their
start-up banners (printed, not logged) show the broker without its address."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

import celery
from celery.apps.beat import Beat
from celery.apps.worker import Worker
from celery.signals import after_setup_logger, after_setup_task_logger

from authority.operations.logging import add_redaction, redact


class RedactedWorker(Worker):
    def startup_info(self, artlines: bool = True) -> str:
        return redact(super().startup_info(artlines=artlines))


class RedactedBeat(Beat):
    def startup_info(self, service: Any) -> str:
        return redact(super().startup_info(service))


class Celery(celery.Celery):
    """The project's Celery application: `celery worker` and `celery beat` run the classes
    above, whatever the command line says."""

    @cached_property
    def Worker(self) -> Any:
        return self.subclass_with_self(RedactedWorker)

    @cached_property
    def Beat(self) -> Any:
        return self.subclass_with_self(RedactedBeat)


# Celery replaces the root logger's handlers with its own (worker_hijack_root_logger); these
# signals follow every set-up (the main process's, which pool processes inherit, and a pool
# process's own when it writes a log file of its own).
@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_celery_handlers(logger: logging.Logger, **kwargs: Any) -> None:
    add_redaction(logger.handlers)

"""``manage.py seed_demo``: the demo company every other tool relies on.

Each app contributes its part through an optional ``<app>/seed.py`` exposing
``seed(ctx)``; they run in ``INSTALLED_APPS`` order, so clients exist before
deals. Every part is idempotent: running the command twice adds nothing.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from salesorg.lib.seeding import SeedContext

SEED_APPS = ("accounts", "clients", "pipeline", "reports")


class Command(BaseCommand):
    help = "Create (or complete) the demo company: users, clients, pipeline and history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=["small", "large"], default="small")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (reproducible)")
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (never in production)"
        )
        parser.add_argument(
            "--until",
            choices=SEED_APPS,
            default=SEED_APPS[-1],
            help="seed the apps in order up to this one (e.g. 'accounts': only the people)",
        )

    def handle(
        self, *args: Any, size: str, seed: int, force: bool, until: str, **options: Any
    ) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with the password 'demo'. It refuses to run with "
                "DEBUG off; pass --force if this really is a demo or benchmark database."
            )
        ctx = SeedContext.create(size=size, seed=seed, stdout=self.stdout)
        for label in SEED_APPS[: SEED_APPS.index(until) + 1]:
            if not apps.is_installed(label):
                continue
            try:
                module = importlib.import_module(f"{label}.seed")
            except ModuleNotFoundError as exc:
                if exc.name != f"{label}.seed":
                    raise
                continue
            started = time.monotonic()
            with transaction.atomic():
                module.seed(ctx)
            self.stdout.write(f"  {label}: done in {time.monotonic() - started:.1f}s")
        self.stdout.write(self.style.SUCCESS(f"Demo company ready ({size}, seed {seed})."))

"""Shared state for the per-app demo seeders (``<app>/seed.py``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from django.utils import timezone


@dataclass
class SeedContext:
    size: str
    seed: int
    rng: random.Random
    now: datetime
    stdout: Any
    #: filled by accounts.seed: username → User
    users: dict[str, Any] = field(default_factory=dict)
    #: anything a later seeder wants to hand to the next one
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, *, size: str, seed: int, stdout: TextIO | Any) -> SeedContext:
        return cls(size=size, seed=seed, rng=random.Random(seed), now=timezone.now(), stdout=stdout)

    @property
    def large(self) -> bool:
        return self.size == "large"

    def log(self, message: str) -> None:
        self.stdout.write(f"    {message}")

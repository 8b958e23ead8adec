"""The client-import step of the benchmark: 10,000 rows in under 30 s (issue 3).

Writes a CSV in the import format and times the import service on it, inside
a transaction that is rolled back, so the benchmark database stays as seeded
and the step can run again. The service is looked up by name:

- ``BENCH_IMPORT_FUNCTION=module:function`` — any callable ``f(path, by=user)``;
- otherwise ``clients.importing.import_create`` + ``run_import`` (the upload
  and the all-or-nothing commit, as the import page runs them).

When neither exists the step is skipped with a note in the report.
"""

from __future__ import annotations

import csv
import importlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

COLUMNS = [
    "name", "registration_number", "industry", "phone", "email", "owner", "contact_name",
    "contact_title", "contact_phone", "contact_email", "city", "province", "address",
    "source", "cadence", "status",
]  # fmt: skip
#: Company indexes far from the demo's (0–10,199), so every row is a new client.
FIRST_INDEX = 15_000


def write_csv(path: Path, rows: int, *, owners: list[str], seed: int = 2026) -> Path:
    from clients import demo_vocab as vocab
    from clients.seed import company_name, landline, mobile, person, uscc

    rng = random.Random(f"{seed}/import")
    cities = [c for region in vocab.CITIES.values() for c in region]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # as Excel writes it
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for k in range(rows):
            index = FIRST_INDEX + k
            city = rng.choice(cities)
            company = company_name(index, rng.random() < 0.3, rng, city, seed)
            contact, local = person(rng, english_name=rng.random() < 0.2)
            role = rng.choice(vocab.CONTACT_ROLES)
            writer.writerow(
                [
                    company["name"], uscc(index, city[4]) if rng.random() < 0.8 else "",
                    company["industry"], landline(index, city[3]),
                    f"info@{company['domain']}", rng.choice(owners), contact, role[0],
                    mobile(index * 8), f"{local}@{company['domain']}", city[0], city[2],
                    "", rng.choice(["sales_visit", "website", "trade_show", "other"]),
                    rng.choice(["monthly", "quarterly", "on_demand"]), "prospect",
                ]
            )  # fmt: skip
    return path


def _via_client_import(path: Path, *, by: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from clients import importing

    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    client_import = importing.import_create(by=by, uploaded_file=upload, mode="all")
    return importing.run_import(client_import, by=by, commit=True)


def find_importer() -> tuple[Callable[..., Any] | None, str]:
    """The import function and how it was found, or ``None`` and why not."""
    spec = os.environ.get("BENCH_IMPORT_FUNCTION", "")
    if spec:
        module_name, _, name = spec.partition(":")
        try:
            return getattr(importlib.import_module(module_name), name), spec
        except (ImportError, AttributeError) as exc:
            return None, f"BENCH_IMPORT_FUNCTION={spec} not found ({exc})"
    try:
        importing = importlib.import_module("clients.importing")
    except ImportError:
        return None, "clients.importing does not exist yet (the import service of issue 3)"
    if hasattr(importing, "import_create") and hasattr(importing, "run_import"):
        return _via_client_import, "clients.importing.import_create + run_import"
    return None, "clients.importing has no import_create/run_import; set BENCH_IMPORT_FUNCTION"


def time_import(path: Path, *, username: str = "director") -> dict[str, Any]:
    """Run the import on ``path`` and roll it back; report rows, seconds and the outcome."""
    from django.db import transaction

    from accounts.models import User

    importer, how = find_importer()
    result: dict[str, Any] = {"file": str(path), "function": how, "target_seconds": 30}
    if importer is None:
        result["skipped"] = how
        return result
    user = User.objects.get(username=username)
    with transaction.atomic():
        started = time.monotonic()
        try:
            outcome = importer(path, by=user)
        except Exception as exc:  # report it; the benchmark goes on
            result["error"] = f"{exc.__class__.__name__}: {exc}"
            outcome = None
        result["seconds"] = round(time.monotonic() - started, 2)
        for field in ("status", "row_count", "created_count", "updated_count", "error_count"):
            if hasattr(outcome, field):
                result[field] = getattr(outcome, field)
        transaction.set_rollback(True)
    result["within_target"] = (
        "seconds" in result and result["seconds"] <= 30 and "error" not in result
    )
    return result

"""``manage.py bench_import``: time ``clients.importing.run_import`` on a generated file.

Generates a CSV of ``--rows`` rows (``--contacts`` contacts per client, so
rows / contacts clients), imports it as ``--user`` and then imports it again
(the re-import updates every client), printing both timings. Everything is
rolled back afterwards unless ``--keep`` is given, so it can run against a
benchmark database without changing it.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User
from clients.columns import COLUMNS
from clients.importing import import_create, run_import
from clients.validators import USCC_ALPHABET, uscc_check_char


class _Rollback(Exception):
    pass


def _uscc(n: int) -> str:
    digits = ""
    for _ in range(9):
        digits = USCC_ALPHABET[n % 31] + digits
        n //= 31
    first17 = ("91440300" + digits)[:17]
    return first17 + uscc_check_char(first17)


def generate_csv(rows: int, contacts: int, owner: str) -> bytes:
    """A realistic client file: every column the import reads, Chinese and English text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c.label) for c in COLUMNS])
    for i in range(rows):
        n = i // contacts
        values = {
            "name": f"深圳基准测试{n}有限公司" if n % 2 else f"Benchmark Client {n} Co., Ltd.",
            "registration_number": _uscc(900_000 + n),
            "external_id": f"BENCH-{n}",
            "industry": ("Manufacturing", "Logistics", "Retail")[n % 3],
            "segment": "Enterprise",
            "region": "",
            "address": f"{n} Shennan Road",
            "city": "Shenzhen",
            "province": "Guangdong",
            "website": f"https://client{n}.example.com",
            "phone": f"0755 {n % 10000:04d} {n // 10000:04d}",
            "email": f"info{n}@client{n}.example.com",
            "status": ("Prospect", "Active", "Dormant", "Lost")[n % 4],
            "source": ("Sales visit", "Website sign-up", "Trade show", "Referral", "Other")[n % 5],
            "cadence": "Monthly",
            "owner": owner,
            "account_manager": "",
            "tags": "benchmark",
            "notes": "Imported by the benchmark.",
            "contact_name": f"Contact {i}",
            "contact_title": "Purchasing manager",
            "contact_department": "Purchasing",
            "contact_phone": f"138{i:08d}",
            "contact_email": f"contact{i}@client{n}.example.com",
            "contact_wechat_id": f"wx{i}",
            "contact_decision_role": "Decision maker",
            "contact_is_primary": "yes" if i % contacts == 0 else "no",
            "contact_notes": "",
        }
        writer.writerow([values[c.key] for c in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


class Command(BaseCommand):
    help = "Time the client import on a generated file (rolled back unless --keep)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--contacts", type=int, default=1, help="contacts per client")
        parser.add_argument("--user", default="director", help="who imports")
        parser.add_argument("--owner", default="", help="owner username (default: --user)")
        parser.add_argument("--keep", action="store_true", help="keep the imported clients")

    def handle(
        self,
        *args: Any,
        rows: int,
        contacts: int,
        user: str,
        owner: str,
        keep: bool,
        **options: Any,
    ) -> None:
        try:
            importer = User.objects.get(username=user)
        except User.DoesNotExist:
            raise CommandError(f"No user {user!r}: run seed_demo or pass --user.") from None
        data = generate_csv(rows, contacts, owner or user)
        self.stdout.write(f"{rows} rows, {rows // contacts} clients, {len(data) / 1e6:.1f} MB")
        try:
            with transaction.atomic():
                for label in ("first import (creates)", "re-import (updates)"):
                    upload = SimpleUploadedFile("bench.csv", data)
                    started = time.perf_counter()
                    client_import = import_create(by=importer, uploaded_file=upload, mode="all")
                    run_import(client_import, by=importer, commit=True)
                    elapsed = time.perf_counter() - started
                    self.stdout.write(
                        f"{label}: {elapsed:.1f} s — {client_import.get_status_display()}, "
                        f"{client_import.created_count} created, {client_import.updated_count} "
                        f"updated, {client_import.error_count} rows with errors"
                    )
                    if client_import.errors:
                        self.stdout.write(f"  first error: {client_import.errors[0]}")
                if not keep:
                    raise _Rollback
        except _Rollback:
            self.stdout.write("Rolled back (pass --keep to keep the clients).")

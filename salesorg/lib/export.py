"""CSV export that spreadsheets cannot be tricked by."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

#: A cell starting with one of these is a formula to Excel, LibreOffice and
#: WPS (``=cmd|' /c calc'!A1``); prefixing a quote shows it as text instead.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """Stream rows as a UTF-8 CSV with a BOM, so Excel opens Chinese text correctly.

    Streaming keeps memory flat for exports of many thousands of rows; the
    caller passes a lazily evaluated iterable (``queryset.iterator()``).
    """
    writer = csv.writer(_Echo())

    def generate() -> Iterable[str]:
        yield "\ufeff"
        yield writer.writerow([str(h) for h in header])
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1"
) -> HttpResponse:
    """An .xlsx download, written row by row (openpyxl's write-only mode keeps memory flat)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.append([str(h) for h in header])
    for row in rows:
        worksheet.append([_xlsx_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: show the local wall-clock time.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, Decimal | int | float | date):
        return value
    return safe_cell("" if value is None else str(value))


# --- report tables (reports-kpis) ---------------------------------------------------
#: The formats every report table downloads in.
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class ReportTable:
    """A table a report shows — its header and rows — ready to download.

    ``filename`` is the ASCII stem of the download (a date stamp is added);
    ``sheet`` the worksheet's title in the spreadsheet (may be translated).
    Rows may be a lazy iterable (``queryset.iterator()``), so a long table
    streams as CSV without being held in memory.
    """

    filename: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    sheet: str = ""


def export_table(table: ReportTable, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """Download ``table`` as ``"csv"`` (UTF-8 with BOM, streamed) or ``"xlsx"``.

    One helper for every report table (KPI results, breakdowns, drill-down
    records), so each exports the same way; cells go through ``safe_cell``.
    """
    if fmt == "csv":
        return csv_response(table.filename, table.header, table.rows)
    if fmt == "xlsx":
        return xlsx_response(
            table.filename, table.header, table.rows, sheet=table.sheet or table.filename
        )
    raise ValueError(f"unknown export format {fmt!r}; use one of {EXPORT_FORMATS}")


# --- end report tables

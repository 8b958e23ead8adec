"""Import clients with their contacts from CSV or XLSX, as a set, fast.

A file has one row per contact; the client columns repeat on each row of the
same client. The flow is upload (``import_create``: read the file, detect its
encoding, guess the column mapping) → map and preview → ``run_import``, which
validates every row and, when asked to commit, writes all rows or nothing
(or only the valid rows, if the user chose so) in one transaction.

Everything is set-based: a fixed number of queries to look up users, regions,
existing clients and contacts, then ``bulk_create``/``bulk_update`` (with
history rows) — so 10,000 rows take seconds, not minutes, and a re-import of
the same file updates the clients it created instead of duplicating them
(matched on registration number, then external id, then normalised name +
phone).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role, Team, User
from clients.columns import BY_KEY, CHOICE_ALIASES, CLIENT, COLUMNS, Column, auto_mapping
from clients.history_sql import create_with_history, update_with_history
from clients.models import (
    Cadence,
    Client,
    ClientImport,
    ClientSource,
    ClientStatus,
    ClientUserObjectPermission,
    Contact,
    DecisionRole,
    Segment,
    Tag,
)
from clients.validators import validate_phone, validate_registration_number
from salesorg.lib.export import safe_cell
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone

#: Larger files are refused before they are read (SPEC: a clear message).
MAX_FILE_SIZE = 20 * 1024 * 1024
PREVIEW_ROWS = 10
BATCH_SIZE = 1000

#: A row is grouped with others of the same client by these keys, strongest first.
_KEY_ORDER = ("reg", "ext", "name_phone")


class ImportFileError(Exception):
    """The file cannot be used at all (too big, not a spreadsheet, no header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ============================================================== reading files
@dataclass
class Sheet:
    """The cells of a file as text, with the spreadsheet row number of each data row."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str = ""  # for CSV: what was detected (shown to the user)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _unique_headers(cells: list[str]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells, start=1):
        header = cell.strip() or _("Column %(n)s") % {"n": index}
        seen[header] = seen.get(header, 0) + 1
        headers.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return headers


def _sheet(raw_rows: Iterable[list[str]], encoding: str = "") -> Sheet:
    iterator = iter(raw_rows)
    header_cells: list[str] | None = None
    for row in iterator:
        if any(cell.strip() for cell in row):
            header_cells = row
            break
    if header_cells is None:
        raise ImportFileError(_("The file is empty: it needs a header row and rows of clients."))
    # Trailing empty header cells (an Excel habit) are not columns.
    while header_cells and not header_cells[-1].strip():
        header_cells = header_cells[:-1]
    headers = _unique_headers(header_cells)
    width = len(headers)
    rows: list[tuple[int, list[str]]] = []
    for number, row in enumerate(iterator, start=2):
        cells = [c.strip() for c in row[:width]]
        if any(cells):
            rows.append((number, cells + [""] * (width - len(cells))))
    return Sheet(headers=headers, rows=rows, encoding=encoding)


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    if "\x00" in sample:
        return True
    controls = sum(
        1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\x0b\x0c"
    )
    return controls > max(3, len(sample) // 200)


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was written in.

    Excel in China saves "CSV" in GBK (GB18030 is its superset) and "CSV
    UTF-8" with a byte-order mark; other tools write UTF-8 without one.
    """
    attempts: list[tuple[bytes, str, str]] = [
        (codecs.BOM_UTF8, "utf-8", "UTF-8 (BOM)"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    ]
    for bom, codec, label in attempts:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), label
            except UnicodeDecodeError:
                break
    else:
        if b"\x00" not in data[:20000]:
            for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GB18030 (GBK)")):
                try:
                    return data.decode(codec), label
                except UnicodeDecodeError:
                    continue
    raise ImportFileError(
        _(
            "This file is not readable text: save it from Excel as “CSV UTF-8” or .xlsx "
            "and upload it again."
        )
    )


def _read_csv(data: bytes) -> Sheet:
    text, encoding = decode_csv(data)
    if _looks_binary(text):
        raise ImportFileError(
            _("This file is not a CSV or XLSX spreadsheet: it contains binary data.")
        )
    # The delimiter is whichever of , ; and tab the header line uses most
    # (csv.Sniffer also guesses the quote character, and our own exports'
    # leading apostrophes fool it).
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _sheet(reader, encoding)
    except csv.Error as exc:
        raise ImportFileError(
            _("This CSV file is malformed (%(error)s).") % {"error": exc}
        ) from exc


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ImportFileError(
            _("This .xlsx file cannot be opened; it may be damaged or protected.")
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = ([_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
        return _sheet(rows)
    finally:
        workbook.close()


def read_sheet(data: bytes, name: str = "") -> Sheet:
    """Read a CSV or XLSX file (told apart by content, not by the file name)."""
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Old Excel files (.xls) are not supported: save the file as .xlsx or CSV.")
        )
    if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
        raise ImportFileError(
            _("This .xlsx file cannot be opened; it may be damaged or protected.")
        )
    return _read_csv(data)


def _read_stored(client_import: ClientImport) -> Sheet:
    with client_import.file.open("rb") as handle:
        data = handle.read()
    return read_sheet(data, client_import.original_name)


# ==================================================================== upload
def last_mapping(user: User) -> dict[str, str]:
    """The mapping the user chose on their previous import, to offer it again."""
    previous = (
        ClientImport.objects.filter(created_by=user)
        .exclude(column_mapping={})
        .order_by("-created_at", "-pk")
        .values_list("column_mapping", flat=True)
        .first()
    )
    return previous or {}


def suggest_mapping(headers: list[str], remembered: dict[str, str]) -> dict[str, str]:
    """The remembered choice for a header the user mapped before, else a guess."""
    mapping = auto_mapping(headers)
    for header in headers:
        if header in remembered and (remembered[header] in BY_KEY or remembered[header] == ""):
            mapping[header] = remembered[header]
    return mapping


@transaction.atomic
def import_create(*, by: User, uploaded_file: UploadedFile, mode: str) -> ClientImport:
    """Store an upload after checking it can be read; guess its column mapping."""
    if not by.has_perm("clients.import_client"):
        raise PermissionDenied
    if uploaded_file.size is not None and uploaded_file.size > MAX_FILE_SIZE:
        raise ImportFileError(
            _("This file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files.")
            % {
                "size": f"{uploaded_file.size / 1024 / 1024:.1f}",
                "limit": MAX_FILE_SIZE // 1024 // 1024,
            }
        )
    data = uploaded_file.read()
    sheet = read_sheet(data, uploaded_file.name or "")
    if not sheet.rows:
        raise ImportFileError(_("The file has a header row but no clients under it."))
    uploaded_file.seek(0)
    client_import = ClientImport(
        created_by=by,
        original_name=Path(uploaded_file.name or "upload").name[:255],
        encoding=sheet.encoding,
        column_mapping=suggest_mapping(sheet.headers, last_mapping(by)),
        mode=mode if mode in ClientImport.Mode.values else ClientImport.Mode.ALL_OR_NOTHING,
        row_count=len(sheet.rows),
    )
    client_import.file.save(client_import.original_name, uploaded_file, save=False)
    client_import.save()
    return client_import


@dataclass
class Preview:
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    total: int


def import_preview(client_import: ClientImport, limit: int = PREVIEW_ROWS) -> Preview:
    sheet = _read_stored(client_import)
    return Preview(headers=sheet.headers, rows=sheet.rows[:limit], total=len(sheet.rows))


def imports_visible_to(user: User) -> models.QuerySet[ClientImport]:
    """Imports by the user and the people their visibility covers (a support
    person sees their region's imports, a manager their team's)."""
    qs = ClientImport.objects.select_related("created_by")
    scope = user.visibility_scope
    if scope.everything:
        return qs
    return qs.filter(created_by__in=sorted(scope.user_ids))


# ================================================================ validation
class _CellError(Exception):
    pass


def _choice_lookup(choices: type[models.TextChoices], name: str) -> dict[str, str]:
    """Value, English and Chinese label and usual synonyms (any case) → stored value."""
    lookup: dict[str, str] = {}
    for value, words in CHOICE_ALIASES.get(name, {}).items():
        for word in words:
            lookup[word.lower()] = value
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for value, label in choices.choices:
                lookup[str(label).strip().lower()] = value
    for value in choices.values:
        lookup[value.lower()] = value
        lookup[value.replace("_", " ").lower()] = value
    return lookup


_TRUE = {"yes", "y", "true", "1", "x", "是", "主要", "✓", "√"}
_FALSE = {"no", "n", "false", "0", "否", "不是"}
_email_validator = EmailValidator()
_url_validator = URLValidator()


def _unescape(value: str) -> str:
    """Undo the quote our export puts before formula-like text (round trip)."""
    if value.startswith("'") and safe_cell(value[1:]) == value:
        return value[1:]
    return value


def _max_length(model: type[models.Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@dataclass
class _Lookups:
    """Everything a row refers to, loaded once for the whole file."""

    users: dict[str, int]
    regions: dict[str, int]
    choices: dict[str, dict[str, str]]
    #: (column, cell) → parsed value or error message: client columns repeat on
    #: every row of a client, and statuses, owners and cities repeat everywhere.
    parsed: dict[tuple[str, str], tuple[bool, Any]] = field(default_factory=dict)


@dataclass
class Row:
    number: int
    client: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    group: int | None = None

    def error(self, column: Column | None, value: str, message: str) -> None:
        self.errors.append(
            {
                "row": self.number,
                "column": str(column.label) if column else "",
                "value": value,
                "message": message,
            }
        )


def _parse_cell(column: Column, value: str, lookups: _Lookups) -> Any:
    """The stored value for one cell; raises ``_CellError`` with a message a user can act on."""
    model = Client if column.target == CLIENT else Contact
    name = column.field
    if name in ("owner", "account_manager"):
        user_id = lookups.users.get(value) or lookups.users.get(value.lower())
        if user_id is None:
            raise _CellError(
                _("No active user “%(username)s” that you can see: give a username.")
                % {"username": value}
            )
        return user_id
    if name == "region":
        region_id = lookups.regions.get(value.lower())
        if region_id is None:
            raise _CellError(_("No sales region is called “%(name)s”.") % {"name": value})
        return region_id
    if name in ("status", "source", "cadence", "segment", "decision_role"):
        choice = lookups.choices[name].get(value.lower())
        if choice is None:
            allowed = ", ".join(
                str(label) for _value, label in model._meta.get_field(name).choices or ()
            )
            raise _CellError(
                _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}
            )
        return choice
    if name == "is_primary":
        token = value.lower()
        if token in _TRUE:
            return True
        if token in _FALSE:
            return False
        raise _CellError(_("Write yes or no."))
    if name == "tags":
        tags = sorted(
            {t.strip() for t in value.replace("，", ",").replace("；", ",").split(",") if t.strip()}
        )
        too_long = [t for t in tags if len(t) > 50]
        if too_long:
            raise _CellError(_("A tag has at most 50 characters."))
        return tags
    limit = _max_length(model, name)
    if limit and len(value) > limit:
        raise _CellError(
            _("At most %(limit)s characters; this has %(n)s.") % {"limit": limit, "n": len(value)}
        )
    try:
        if name == "registration_number":
            value = value.upper()
            validate_registration_number(value)
        elif name == "phone":
            validate_phone(value)
        elif name == "email":
            value = normalize_email(value)
            _email_validator(value)
        elif name == "website":
            if "://" not in value:
                value = f"https://{value}"
            _url_validator(value)
    except ValidationError as exc:
        raise _CellError(_messages(exc)) from exc
    return value


def _build_lookups(by: User, sheet: Sheet, mapping: dict[int, Column]) -> _Lookups:
    usernames: set[str] = set()
    for index, column in mapping.items():
        if column.field in ("owner", "account_manager"):
            usernames.update(cells[index] for _n, cells in sheet.rows if cells[index])
    users: dict[str, int] = {}
    if usernames:
        candidates = usernames | {u.lower() for u in usernames}
        for pk, username in (
            User.objects.visible_to(by)
            .filter(is_active=True, username__in=sorted(candidates))
            .values_list("pk", "username")
        ):
            users[username] = pk
            users.setdefault(username.lower(), pk)
    regions: dict[str, int] = {}
    if any(c.field == "region" for c in mapping.values()):
        for pk, name in (
            Team.objects.visible_to(by).filter(kind=Team.Kind.REGION).values_list("pk", "name")
        ):
            regions[name.strip().lower()] = pk
    return _Lookups(
        users=users,
        regions=regions,
        choices={
            "status": _choice_lookup(ClientStatus, "status"),
            "source": _choice_lookup(ClientSource, "source"),
            "cadence": _choice_lookup(Cadence, "cadence"),
            "segment": _choice_lookup(Segment, "segment"),
            "decision_role": _choice_lookup(DecisionRole, "decision_role"),
        },
    )


def _validate_row(
    number: int, cells: list[str], mapping: dict[int, Column], lookups: _Lookups
) -> Row:
    row = Row(number=number)
    for index, column in mapping.items():
        raw = _unescape(cells[index])
        if not raw:
            continue
        cached = lookups.parsed.get((column.key, raw))
        if cached is None:
            try:
                cached = (True, _parse_cell(column, raw, lookups))
            except _CellError as exc:
                cached = (False, str(exc))
            lookups.parsed[(column.key, raw)] = cached
        ok, value = cached
        if not ok:
            row.error(column, raw, value)
            continue
        if isinstance(value, list):
            value = list(value)
        (row.client if column.target == CLIENT else row.contact)[column.field] = value
    if not row.client.get("name") and not any(
        e["column"] == str(BY_KEY["name"].label) for e in row.errors
    ):
        row.error(BY_KEY["name"], "", _("A client name is required."))
    if row.contact and not row.contact.get("name"):
        row.error(
            BY_KEY["contact_name"], "", _("Contact details are given without the contact's name.")
        )
    return row


def _client_keys(values: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if values.get("registration_number"):
        keys["reg"] = values["registration_number"]
    if values.get("external_id"):
        keys["ext"] = values["external_id"]
    keys["name_phone"] = (normalize_name(values["name"]), normalize_phone(values.get("phone", "")))
    return keys


def _contact_key(values: dict[str, Any]) -> tuple[str, str]:
    if not values:
        return ("none", "")
    if values.get("email"):
        return ("email", values["email"])
    phone = normalize_phone(values.get("phone", ""))
    if phone:
        return ("phone", phone)
    return ("name", values["name"].strip().lower())


def _contact_keys(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way a contact in the file can be recognised among existing ones."""
    keys: list[tuple[str, str]] = []
    if values.get("email"):
        keys.append(("email", normalize_email(values["email"])))
    phone = normalize_phone(values.get("phone", ""))
    if phone:
        keys.append(("phone", phone))
    if values.get("name"):
        keys.append(("name", values["name"].strip().lower()))
    return keys


#: The client column of each Client field, to name it in messages.
_CLIENT_COLUMN: dict[str, Column] = {c.field: c for c in COLUMNS if c.target == CLIENT}


@dataclass
class _Group:
    """The rows of one client in the file."""

    first_row: Row
    keys: dict[str, Any]
    client: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    contacts: dict[tuple[str, str], Row] = field(default_factory=dict)
    primary_row: Row | None = None
    existing_id: int | None = None
    obj: Client | None = None

    @property
    def valid_rows(self) -> list[Row]:
        return [r for r in self.rows if not r.errors]


def _group_rows(rows: list[Row]) -> list[_Group]:
    """Rows of the same client together; repeated rows and contradictions are errors."""
    groups: list[_Group] = []
    by_key: dict[tuple[str, Any], _Group] = {}
    for row in rows:
        if row.errors:
            continue
        keys = _client_keys(row.client)
        group = next(
            (by_key[(k, keys[k])] for k in _KEY_ORDER if k in keys and (k, keys[k]) in by_key),
            None,
        )
        contact_key = _contact_key(row.contact)
        if group is None:
            group = _Group(first_row=row, keys=keys, client=dict(row.client))
            groups.append(group)
        else:
            differing = [
                str(_CLIENT_COLUMN[name].label)
                for name, value in row.client.items()
                if name in group.client and group.client[name] != value
            ]
            if differing:
                row.error(
                    BY_KEY["name"],
                    row.client["name"],
                    _("This client's details differ from row %(row)s: %(columns)s.")
                    % {"row": group.first_row.number, "columns": ", ".join(differing)},
                )
                continue
            if contact_key in group.contacts:
                row.error(
                    None,
                    "",
                    _("This row repeats row %(row)s (same client and contact).")
                    % {"row": group.contacts[contact_key].number},
                )
                continue
            for name, value in row.client.items():
                group.client.setdefault(name, value)
        if row.contact.get("is_primary"):
            if group.primary_row is not None:
                row.error(
                    BY_KEY["contact_is_primary"],
                    "yes",
                    _("Row %(row)s already makes another contact this client's primary contact.")
                    % {"row": group.primary_row.number},
                )
                continue
            group.primary_row = row
        for key, value in keys.items():
            by_key.setdefault((key, value), group)
        group.contacts[contact_key] = row
        group.rows.append(row)
    return groups


# ================================================================== matching
def _changeable_client_ids(by: User, ids: Iterable[int]) -> set[int]:
    """Of these clients, the ones ``by`` may change (visible, and not only through a view grant)."""
    ids = sorted(set(ids))
    if not ids or not by.has_perm("clients.change_client"):
        return set()
    qs = Client._base_manager.filter(pk__in=ids)
    scope = by.visibility_scope
    if scope.everything:
        return set(qs.values_list("pk", flat=True))
    users = sorted(scope.user_ids)
    changeable = set(
        qs.filter(Q(owner__in=users) | Q(account_manager__in=users)).values_list("pk", flat=True)
    )
    changeable |= set(
        ClientUserObjectPermission.objects.filter(
            user=by, content_object_id__in=ids, permission__codename="change_client"
        ).values_list("content_object_id", flat=True)
    )
    return changeable


def _group_error(group: _Group, column: Column, value: str, message: str) -> None:
    for row in group.valid_rows:
        row.error(column, value, message)


def _match_existing(by: User, groups: list[_Group]) -> None:
    """Find the existing client of each group and check the importer may change it.

    Registration number and external id are unique company-wide, so they match
    any client; a normalised name + phone matches only among the clients the
    importer sees (otherwise they would simply create their own).
    """
    regs = sorted({g.keys["reg"] for g in groups if "reg" in g.keys})
    exts = sorted({g.keys["ext"] for g in groups if "ext" in g.keys})
    names = sorted({g.keys["name_phone"][0] for g in groups})
    by_reg = dict(
        Client._base_manager.filter(registration_number__in=regs).values_list(
            "registration_number", "pk"
        )
    )
    by_ext = dict(
        Client._base_manager.filter(external_id__in=exts).values_list("external_id", "pk")
    )
    by_name_phone: dict[tuple[str, str], int] = {}
    for pk, name, phone in (
        Client.objects.visible_to(by)
        .filter(name_normalized__in=names)
        .order_by("pk")
        .values_list("pk", "name_normalized", "phone_normalized")
    ):
        by_name_phone.setdefault((name, phone), pk)

    for group in groups:
        reg_id = by_reg.get(group.keys.get("reg"))
        ext_id = by_ext.get(group.keys.get("ext"))
        if reg_id and ext_id and reg_id != ext_id:
            _group_error(
                group,
                BY_KEY["external_id"],
                group.keys["ext"],
                _("The registration number and the external id belong to two different clients."),
            )
            continue
        group.existing_id = reg_id or ext_id or by_name_phone.get(group.keys["name_phone"])

    matched = [g for g in groups if g.existing_id and g.valid_rows]
    changeable = _changeable_client_ids(by, (g.existing_id for g in matched))
    owners = {
        pk: (owner, am)
        for pk, owner, am in Client._base_manager.filter(
            pk__in=sorted({g.existing_id for g in matched})
        ).values_list("pk", "owner_id", "account_manager_id")
    }
    may_reassign = by.has_perm("clients.change_client_ownership")
    may_assign_am = may_reassign or by.has_perm("clients.assign_account_manager")
    for group in groups:
        if not group.valid_rows:
            continue
        if group.existing_id is None:
            if group.client.get("account_manager") and not may_assign_am:
                _group_error(
                    group,
                    BY_KEY["account_manager"],
                    "",
                    _("You may not assign account managers; leave this column empty."),
                )
            continue
        if group.existing_id not in changeable:
            column = BY_KEY["registration_number"] if "reg" in group.keys else BY_KEY["name"]
            _group_error(
                group,
                column,
                group.keys.get("reg") or group.client["name"],
                _("This client already exists and is not yours to change."),
            )
            continue
        owner, am = owners[group.existing_id]
        if not may_reassign and group.client.get("owner", owner) != owner:
            _group_error(
                group,
                BY_KEY["owner"],
                "",
                _("You may not change the owner of an existing client."),
            )
        elif not may_assign_am and group.client.get("account_manager", am) != am:
            _group_error(
                group,
                BY_KEY["account_manager"],
                "",
                _("You may not change the account manager of an existing client."),
            )


# ================================================================== the plan
@dataclass
class ImportPlan:
    rows: list[Row]
    groups: list[_Group]
    file_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_rows(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    @property
    def errors(self) -> list[dict[str, Any]]:
        found = list(self.file_errors)
        for row in self.rows:
            found.extend(row.errors)
        return found

    def groups_to_write(self) -> list[_Group]:
        return [g for g in self.groups if g.valid_rows]


def _file_error(message: str, column: str = "") -> dict[str, Any]:
    return {"row": None, "column": column, "value": "", "message": message}


def _column_mapping(client_import: ClientImport, headers: list[str]) -> dict[int, Column]:
    saved = client_import.column_mapping or {}
    return {
        index: BY_KEY[saved[header]]
        for index, header in enumerate(headers)
        if saved.get(header) in BY_KEY
    }


def _plan(client_import: ClientImport, by: User) -> ImportPlan:
    sheet = _read_stored(client_import)
    mapping = _column_mapping(client_import, sheet.headers)
    used = [c.key for c in mapping.values()]
    twice = sorted({str(BY_KEY[k].label) for k in used if used.count(k) > 1})
    if twice:
        message = _("Two columns of the file are mapped to the same field.")
        return ImportPlan(rows=[], groups=[], file_errors=[_file_error(message, ", ".join(twice))])
    if "name" not in used:
        label = str(BY_KEY["name"].label)
        message = _(
            "No column holds the client name: the file needs one, mapped to “%(column)s”."
        ) % {"column": label}
        return ImportPlan(rows=[], groups=[], file_errors=[_file_error(message, label)])
    lookups = _build_lookups(by, sheet, mapping)
    rows = [_validate_row(number, cells, mapping, lookups) for number, cells in sheet.rows]
    default_owner = by.pk if by.role != Role.SUPPORT else None
    groups = _group_rows(rows)
    _match_existing(by, groups)
    for group in groups:
        if group.existing_id is None and "owner" not in group.client:
            if default_owner is None:
                _group_error(
                    group,
                    BY_KEY["owner"],
                    "",
                    _("Name the owner (a username): support staff do not own clients."),
                )
            group.client["owner"] = default_owner
    return ImportPlan(rows=rows, groups=groups)


# ================================================================= applying
_CLIENT_TEXT_FIELDS = {c.field for c in COLUMNS if c.target == CLIENT} - {
    "owner",
    "account_manager",
    "region",
    "tags",
}


def _client_attrs(values: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: v for k, v in values.items() if k in _CLIENT_TEXT_FIELDS}
    for name in ("owner", "account_manager", "region"):
        if values.get(name) is not None:
            attrs[f"{name}_id"] = values[name]
    return attrs


def _normalise_client(client: Client) -> None:
    # What Client.save() does; bulk writes skip save().
    client.name_normalized = normalize_name(client.name)
    client.phone_normalized = normalize_phone(client.phone)
    client.registration_number = (client.registration_number or "").strip().upper()
    client.email = normalize_email(client.email)


def _normalise_contact(contact: Contact) -> None:
    contact.phone_normalized = normalize_phone(contact.phone)
    contact.email = normalize_email(contact.email)


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0


def _apply(plan: ImportPlan, by: User, reason: str) -> _Counts:
    groups = plan.groups_to_write()
    now = timezone.now()
    history = {"user": by, "reason": reason}

    # Existing clients, locked in pk order so concurrent imports/merges never deadlock.
    existing = {
        c.pk: c
        for c in Client._base_manager.filter(
            pk__in=sorted({g.existing_id for g in groups if g.existing_id})
        )
        .select_for_update()
        .order_by("pk")
    }
    new_clients: list[Client] = []
    changed: dict[int, Client] = {}
    changed_fields: set[str] = set()
    for group in groups:
        attrs = _client_attrs(group.client)
        if group.existing_id is None:
            group.obj = Client(created_by=by, **attrs)
            _normalise_client(group.obj)
            new_clients.append(group.obj)
            continue
        group.obj = client = existing[group.existing_id]
        changes = {k: v for k, v in attrs.items() if getattr(client, k) != v}
        if changes:
            for name, value in changes.items():
                setattr(client, name, value)
            _normalise_client(client)
            changed_fields.update(changes)
            changed[client.pk] = client

    if new_clients:
        create_with_history(new_clients, Client, **history)
    _apply_tags(groups)
    for pk in _apply_contacts(groups, now, history):
        changed.setdefault(pk, existing[pk])
    if changed:
        for client in changed.values():
            client.version += 1
            client.updated_at = now
        fields = changed_fields | {"version", "updated_at", "name_normalized", "phone_normalized"}
        update_with_history(list(changed.values()), Client, sorted(fields), **history)
    return _Counts(created=len(new_clients), updated=len(existing))


def _apply_tags(groups: list[_Group]) -> None:
    """Add the file's tags to its clients (tags are never removed by an import)."""
    wanted = sorted({name for g in groups for name in g.client.get("tags", [])})
    if not wanted:
        return
    Tag.objects.bulk_create([Tag(name=n) for n in wanted], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=wanted).values_list("name", "pk"))
    through = Client.tags.through
    links = [
        through(client_id=g.obj.pk, tag_id=tag_ids[name])
        for g in groups
        if g.obj is not None
        for name in g.client.get("tags", [])
    ]
    through.objects.bulk_create(links, batch_size=BATCH_SIZE, ignore_conflicts=True)


def _apply_contacts(groups: list[_Group], now: datetime, history: dict[str, Any]) -> set[int]:
    """Create or update each row's contact; return the existing clients whose contacts changed.

    A contact of an existing client is recognised by e-mail, then phone, then
    name; contacts missing from the file are left alone.
    """
    existing_ids = sorted({g.existing_id for g in groups if g.existing_id})
    known: dict[int, dict[tuple[str, str], Contact]] = {}
    primaries: dict[int, list[Contact]] = {}
    for contact in Contact._base_manager.filter(client_id__in=existing_ids).order_by("pk"):
        index = known.setdefault(contact.client_id, {})
        for key in _contact_keys(
            {"email": contact.email, "phone": contact.phone, "name": contact.name}
        ):
            index.setdefault(key, contact)
        if contact.is_primary:
            primaries.setdefault(contact.client_id, []).append(contact)

    new_contacts: list[Contact] = []
    updated: dict[int, Contact] = {}
    demoted: dict[int, Contact] = {}
    fields: set[str] = set()
    touched: set[int] = set()
    for group in groups:
        client = group.obj
        assert client is not None
        index = known.get(client.pk, {}) if group.existing_id else {}
        for row in group.valid_rows:
            if not row.contact:
                continue
            match = next((index[k] for k in _contact_keys(row.contact) if k in index), None)
            if match is None:
                contact = Contact(client=client, **row.contact)
                _normalise_contact(contact)
                new_contacts.append(contact)
                if group.existing_id:
                    touched.add(client.pk)
            else:
                contact = match
                changes = {k: v for k, v in row.contact.items() if getattr(match, k) != v}
                if changes:
                    for name, value in changes.items():
                        setattr(match, name, value)
                    _normalise_contact(match)
                    fields.update(changes)
                    updated[match.pk] = match
                    touched.add(client.pk)
            if row.contact.get("is_primary"):
                for other in primaries.get(client.pk, []):
                    if other is not contact:
                        other.is_primary = False
                        demoted[other.pk] = other
                        touched.add(client.pk)

    for contact in {**demoted, **updated}.values():
        contact.version += 1
        contact.updated_at = now
    if demoted:
        # First, so that a new primary contact never meets the old one in the unique index.
        update_with_history(
            list(demoted.values()), Contact, ["is_primary", "version", "updated_at"], **history
        )
    if updated:
        fields |= {"version", "updated_at", "phone_normalized"}
        update_with_history(list(updated.values()), Contact, sorted(fields), **history)
    if new_contacts:
        create_with_history(new_contacts, Contact, **history)
    return touched


# ================================================================ the service
def run_import(client_import: ClientImport, *, by: User, commit: bool = True) -> ClientImport:
    """Validate every row of an uploaded file and, with ``commit``, write it.

    ``commit=False`` is the dry run behind the "check" button: it records what
    would be created and updated, and every error, and writes no client. With
    ``commit=True`` the mode decides: all rows or nothing (any error → nothing
    is written), or only the valid rows. The writes are one transaction: if
    anything fails half-way, nothing stays. Returns the import with its status,
    counts and errors saved.
    """
    if not by.has_perm("clients.import_client"):
        raise PermissionDenied
    if client_import.status == ClientImport.Status.COMMITTED:
        raise ValidationError(_("This import was already committed."))
    reason = _("Imported from %(file)s (import #%(id)s)") % {
        "file": client_import.original_name,
        "id": client_import.pk,
    }
    counts, written = _Counts(), False
    plan = ImportPlan(rows=[], groups=[])
    try:
        with transaction.atomic():
            plan = _plan(client_import, by)
            all_or_nothing = client_import.mode == ClientImport.Mode.ALL_OR_NOTHING
            blocked = bool(plan.file_errors) or (all_or_nothing and bool(plan.error_rows))
            if commit and not blocked:
                counts = _apply(plan, by, reason)
                written = True
            elif not commit and not plan.file_errors:
                to_write = plan.groups_to_write()
                new = sum(1 for g in to_write if g.existing_id is None)
                counts = _Counts(created=new, updated=len(to_write) - new)
    except ImportFileError as exc:
        plan.file_errors.append(_file_error(exc.message))
    except IntegrityError:
        # Someone saved a client with the same registration number or external
        # id (or the same contact) while this ran; the transaction rolled back.
        counts, written = _Counts(), False
        plan.file_errors.append(
            _file_error(
                _(
                    "Someone else changed the same clients while this import ran; nothing was "
                    "imported. Run the import again."
                )
            )
        )

    client_import.errors = plan.errors
    client_import.error_count = len(plan.error_rows) + len(plan.file_errors)
    if plan.rows:
        client_import.row_count = len(plan.rows)
    client_import.created_count = counts.created
    client_import.updated_count = counts.updated
    if commit:
        client_import.finished_at = timezone.now()
        client_import.status = (
            ClientImport.Status.COMMITTED if written else ClientImport.Status.FAILED
        )
    else:
        client_import.status = (
            ClientImport.Status.FAILED if plan.file_errors else ClientImport.Status.VALIDATED
        )
    client_import.save()
    return client_import


def errors_rows(client_import: ClientImport) -> Iterable[list[Any]]:
    """The errors of an import as rows for the downloadable CSV."""
    for error in client_import.errors:
        yield [
            error.get("row") or "",
            error.get("column", ""),
            error.get("value", ""),
            error["message"],
        ]


def column_choices() -> list[tuple[str, str]]:
    """(key, label) of every column a file may fill, for the mapping form."""
    return [(c.key, str(c.label)) for c in COLUMNS]

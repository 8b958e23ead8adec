"""Exporting clients with contacts: visibility, filters, formula cells, round trip."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from clients import importing
from clients.models import Client, ClientImport, Contact
from clients.tests.data_factories import ClientFactory, ContactFactory, uscc

pytestmark = pytest.mark.django_db


URL = reverse("clients:export")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def clients(org):
    acme = ClientFactory(
        name="Acme Trading", owner=org.rep, registration_number=uscc(1), status="active"
    )
    ContactFactory(client=acme, name="Wang Wei", is_primary=True, phone="138 0013 8000")
    ContactFactory(client=acme, name="Li Na", decision_role="influencer")
    ClientFactory(name="Bohai Foods", owner=org.peer_rep, status="prospect", industry="Food")
    ClientFactory(name="Northern Star", owner=org.outsider)
    return acme


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def _names(rows: list[list[str]]) -> set[str]:
    return {r[0] for r in rows[1:]}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("director", {"Acme Trading", "Bohai Foods", "Northern Star"}),
        ("manager", {"Acme Trading", "Bohai Foods"}),
        ("support", {"Acme Trading", "Bohai Foods"}),
        ("am", {"Acme Trading", "Bohai Foods"}),
        ("rep", {"Acme Trading"}),
        ("peer_rep", {"Bohai Foods"}),
        ("outsider", {"Northern Star"}),
        ("peer_manager", {"Northern Star"}),
    ],
)
def test_each_persona_exports_exactly_their_clients(login, org, clients, persona, expected):
    rows = _csv_rows(login(getattr(org, persona)).get(URL, {"format": "csv"}))
    assert _names(rows) == expected


def test_one_row_per_contact_with_the_import_columns(login, org, clients):
    rows = _csv_rows(login(org.rep).get(URL, {"format": "csv"}))
    header = rows[0]
    assert header[0] == "Client name" and "Contact name" in header
    assert importing.auto_mapping(header) == {h: h and _key(h) for h in header}
    acme_rows = [r for r in rows[1:] if r[0] == "Acme Trading"]
    contacts = [r[header.index("Contact name")] for r in acme_rows]
    assert contacts == ["Wang Wei", "Li Na"]
    assert acme_rows[0][header.index("Primary contact")] == "yes"
    assert acme_rows[1][header.index("Contact decision role")] == "Influencer"
    assert acme_rows[0][header.index("Owner (username)")] == "rep"
    assert acme_rows[0][header.index("Status")] == "Active"


def _key(header: str) -> str:
    from clients.columns import COLUMNS

    return next(c.key for c in COLUMNS if str(c.label) == header)


def test_filters_like_the_list(login, org, clients):
    client = login(org.manager)
    assert _names(_csv_rows(client.get(URL, {"format": "csv", "status": "prospect"}))) == {
        "Bohai Foods"
    }
    assert _names(_csv_rows(client.get(URL, {"format": "csv", "q": "wang wei"}))) == {
        "Acme Trading"
    }
    assert _names(_csv_rows(client.get(URL, {"format": "csv", "industry": "food"}))) == {
        "Bohai Foods"
    }
    owner = {"format": "csv", "owner": org.peer_rep.pk}
    assert _names(_csv_rows(client.get(URL, owner))) == {"Bohai Foods"}
    # A filter on someone outside the hierarchy finds nothing rather than their clients.
    outsider = {"format": "csv", "owner": org.outsider.pk}
    assert _names(_csv_rows(client.get(URL, outsider))) == set()


def test_formula_cells_are_neutralised_in_csv_and_xlsx(login, org):
    evil = ClientFactory(name="=cmd|' /c calc'!A1", owner=org.rep, notes="@SUM(1+1)")
    ContactFactory(client=evil, name="+Attacker", title="-2+3", department="=HYPERLINK(1)")
    client = login(org.rep)
    rows = _csv_rows(client.get(URL, {"format": "csv"}))
    header, row = rows[0], rows[1]
    assert row[0] == "'=cmd|' /c calc'!A1"
    assert row[header.index("Client notes")] == "'@SUM(1+1)"
    assert row[header.index("Contact name")] == "'+Attacker"
    assert row[header.index("Contact title")] == "'-2+3"
    assert row[header.index("Contact department")] == "'=HYPERLINK(1)"

    response = client.get(URL, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = {c.value: c for c in sheet[2]}
    for value in ("'=cmd|' /c calc'!A1", "'@SUM(1+1)", "'+Attacker", "'-2+3"):
        assert value in cells and cells[value].data_type == "s"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_an_export_imports_back_as_updates(login, org, clients):
    evil = ClientFactory(name="=cmd|' /c calc'!A1", owner=org.rep, phone="+86 138 0013 8001")
    ContactFactory(client=evil, name="Zhao")
    before = (Client.objects.count(), Contact.objects.count())
    for fmt in ("csv", "xlsx"):
        response = login(org.manager).get(URL, {"format": fmt})
        data = b"".join(response.streaming_content) if fmt == "csv" else response.content
        upload = SimpleUploadedFile(f"export.{fmt}", data)
        client_import = importing.import_create(by=org.manager, uploaded_file=upload, mode="all")
        importing.run_import(client_import, by=org.manager)
        assert client_import.status == ClientImport.Status.COMMITTED, client_import.errors
        assert client_import.created_count == 0 and client_import.updated_count == 3
        assert (Client.objects.count(), Contact.objects.count()) == before
    evil.refresh_from_db()
    assert evil.name == "=cmd|' /c calc'!A1" and evil.phone == "+86 138 0013 8001"


def test_the_export_page_offers_both_formats(login, org, clients):
    html = login(org.support).get(URL).content.decode()
    assert 'value="csv"' in html and 'value="xlsx"' in html
    assert org.outsider.username not in html  # the owner filter lists visible people only


def test_export_needs_the_permission(login, org, clients):
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name="rep").permissions.remove(
        Permission.objects.get(codename="export_client")
    )
    assert login(org.rep).get(URL, {"format": "csv"}).status_code == 403


def test_a_chinese_export_imports_back(login, org, clients):
    client = login(org.manager)
    client.cookies["django_language"] = "zh-hans"
    rows = _csv_rows(client.get(URL, {"format": "csv"}))
    assert rows[0][0] == "客户名称" and "联系人姓名" in rows[0]
    assert "是" in rows[1]  # the primary contact, in Chinese
    data = "\ufeff".encode() + "\n".join(",".join(f'"{c}"' for c in r) for r in rows).encode()
    upload = SimpleUploadedFile("导出.csv", data)
    client_import = importing.import_create(by=org.manager, uploaded_file=upload, mode="all")
    assert set(client_import.column_mapping.values()) >= {"name", "contact_name", "status"}
    importing.run_import(client_import, by=org.manager)
    assert client_import.status == ClientImport.Status.COMMITTED, client_import.errors
    assert (client_import.created_count, client_import.updated_count) == (0, 2)
    assert Contact.objects.get(name="Wang Wei").is_primary

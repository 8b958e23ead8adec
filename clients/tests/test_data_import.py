"""Importing clients with contacts: encodings, bad files, row errors, modes, re-import."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from clients import importing
from clients.models import Client, ClientImport, Contact
from clients.tests.data_factories import ClientFactory, ContactFactory, uscc

pytestmark = pytest.mark.django_db


HEADER = [
    "Client name",
    "Registration number",
    "Phone",
    "E-mail",
    "Status",
    "Source",
    "Owner (username)",
    "Tags",
    "Contact name",
    "Contact phone",
    "Contact e-mail",
    "Primary contact",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _row(i: int, *, contact: str = "", **over: str) -> list[str]:
    values = {
        "Client name": f"Client {i} Co., Ltd.",
        "Registration number": uscc(i),
        "Phone": f"021 5555 {i:04d}",
        "E-mail": f"info{i}@client.example",
        "Status": "Active",
        "Source": "Trade show",
        "Owner (username)": "rep",
        "Tags": "imported",
        "Contact name": contact or f"Person {i}",
        "Contact phone": f"138 0000 {i:04d}",
        "Contact e-mail": f"{contact or 'person'}{i}@client.example".lower(),
        "Primary contact": "yes" if not contact else "no",
    }
    values.update(over)
    return [values[h] for h in HEADER]


def _csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _import(user, data: bytes, name: str = "clients.csv", mode: str = "all", commit: bool = True):
    upload = SimpleUploadedFile(name, data)
    client_import = importing.import_create(by=user, uploaded_file=upload, mode=mode)
    return importing.run_import(client_import, by=user, commit=commit)


def _messages(client_import: ClientImport) -> dict[int | None, list[str]]:
    found: dict[int | None, list[str]] = {}
    for error in client_import.errors:
        found.setdefault(error["row"], []).append(error["message"])
    return found


# ------------------------------------------------------------------ encodings
def test_a_gbk_file_from_chinese_excel_imports_correctly(org):
    header = [
        "客户名称",
        "统一社会信用代码",
        "电话",
        "状态",
        "来源",
        "拜访频率",
        "负责人",
        "联系人",
        "手机",
        "主要联系人",
    ]
    huadong = [
        "上海华东物流有限公司",
        uscc(1),
        "021 5555 0001",
        "活跃",
        "展会",
        "每两周一次",
        "rep",
    ]
    rows = [
        [*huadong, "张伟", "13800138000", "是"],
        [*huadong, "李娜", "13900139000", "否"],
        ["北京燕京食品", "", "010 6666 0002", "潜在客户", "客户推荐", "按需", "am", "王芳", "", ""],
    ]
    result = _import(org.manager, _csv(rows, header, "gbk"))
    assert result.encoding == "GB18030 (GBK)"
    assert result.status == ClientImport.Status.COMMITTED, result.errors
    assert (result.created_count, result.updated_count, result.error_count) == (2, 0, 0)
    client = Client.objects.get(registration_number=uscc(1))
    assert client.name == "上海华东物流有限公司"
    assert (client.status, client.source, client.cadence) == ("active", "trade_show", "biweekly")
    assert client.owner == org.rep
    assert list(client.contacts.values_list("name", "is_primary")) == [
        ("张伟", True),
        ("李娜", False),
    ]
    yanjing = Client.objects.get(name="北京燕京食品")
    assert (yanjing.status, yanjing.source, yanjing.cadence) == (
        "prospect",
        "referral",
        "on_demand",
    )
    assert yanjing.owner == org.am
    created = client.history.get()
    assert (created.history_type, created.history_user) == ("+", org.manager)
    assert created.history_change_reason == f"Imported from clients.csv (import #{result.pk})"
    assert created.name == client.name and created.owner_id == org.rep.pk
    assert client.contacts.get(name="张伟").history.get().history_type == "+"


def test_a_utf8_file_with_a_bom_imports_correctly(org):
    data = "\ufeff".encode() + _csv([_row(1), _row(2)])
    result = _import(org.manager, data)
    assert result.encoding == "UTF-8 (BOM)"
    assert result.column_mapping["Client name"] == "name"  # the BOM is not part of the header
    assert result.status == ClientImport.Status.COMMITTED, result.errors
    assert Client.objects.filter(name__startswith="Client ").count() == 2
    plain = _import(org.manager, _csv([_row(3)]))
    assert plain.encoding == "UTF-8" and plain.status == ClientImport.Status.COMMITTED


def test_an_xlsx_file_imports(org):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(_row(1))
    row = _row(2)
    row[2] = 2155550002  # a phone typed as a number
    sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _import(org.manager, buffer.getvalue(), name="clients.xlsx")
    assert result.status == ClientImport.Status.COMMITTED, result.errors
    assert result.created_count == 2
    assert Client.objects.get(registration_number=uscc(2)).phone == "2155550002"


# ------------------------------------------------------------------ bad files
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (bytes(range(256)) * 40, "clients.csv", "not readable text"),
        (b"name,phone\n\x80\x81\xfe\xff,1\n", "clients.csv", "not readable text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "clients.xls", ".xls"),
        (b"PK\x03\x04garbage", "clients.xlsx", "cannot be opened"),
        (b"not a zip at all", "clients.xlsx", "cannot be opened"),
        (b"", "clients.csv", "empty"),
        (b"Client name,Phone\n", "clients.csv", "no clients"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(login, org, data, name, message):
    client = login(org.support)
    response = client.post(
        reverse("clients:import"), {"file": SimpleUploadedFile(name, data), "mode": "all"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClientImport.objects.exists()


def test_files_above_20_mb_are_refused(login, org):
    big = SimpleUploadedFile("big.csv", b"Client name\n" + b"x" * (20 * 1024 * 1024 + 1))
    response = login(org.support).post(reverse("clients:import"), {"file": big, "mode": "all"})
    assert "the limit is 20 MB" in response.content.decode()
    assert not ClientImport.objects.exists()


def test_a_file_without_a_name_column_commits_nothing(org):
    header = ["Company", "Phone"]
    header[0] = "Something else"
    result = _import(org.manager, _csv([["Acme", "021 5555 0000"]], header))
    assert result.status == ClientImport.Status.FAILED
    assert "No column holds the client name" in result.errors[0]["message"]
    assert not Client.objects.exists()


def test_bad_values_give_row_level_errors_and_nothing_is_committed(org):
    rows = [
        _row(1),
        _row(2, **{"E-mail": "not-an-email"}),
        _row(3, **{"Phone": "call me"}),
        _row(4, **{"Registration number": "91310000ABC"}),
        _row(5, **{"Status": "maybe"}),
        _row(6, **{"Owner (username)": "outsider"}),  # not someone the manager sees
        _row(7, **{"Client name": ""}),
        _row(8, **{"Contact e-mail": "x@", "Contact phone": "12"}),
    ]
    result = _import(org.manager, _csv(rows))
    assert result.status == ClientImport.Status.FAILED
    assert result.created_count == 0 and result.error_count == 7
    errors = _messages(result)
    assert set(errors) == {3, 4, 5, 6, 7, 8, 9}  # spreadsheet rows; the header is row 1
    assert errors[3] == ["Enter a valid email address."]
    assert any("not a phone number" in m for m in errors[4])
    assert any("18 characters" in m for m in errors[5])
    assert any("not one of" in m for m in errors[6])
    assert any("outsider" in m for m in errors[7])
    assert any("name is required" in m for m in errors[8])
    assert len(errors[9]) == 2
    assert not Client.objects.exists() and not Contact.objects.exists()


def test_duplicate_rows_inside_the_file_are_errors(org):
    rows = [_row(1), _row(2), _row(1), _row(1, **{"Status": "Lost"})]
    result = _import(org.manager, _csv(rows))
    assert result.status == ClientImport.Status.FAILED
    errors = _messages(result)
    assert set(errors) == {4, 5}
    assert "repeats row 2" in errors[4][0]
    assert "differ from row 2" in errors[5][0]
    assert not Client.objects.exists()


def test_a_5_mb_file_with_one_bad_row_commits_nothing(org):
    notes = "Long notes about this client. " * 70  # ~2 KB a row
    header = [*HEADER, "Client notes"]
    rows = [[*_row(i), notes] for i in range(1, 2601)]
    rows[1733][3] = "broken@"
    data = _csv(rows, header)
    assert len(data) > 5 * 1024 * 1024
    result = _import(org.manager, data)
    assert result.status == ClientImport.Status.FAILED
    assert result.row_count == 2600 and result.error_count == 1
    assert [e["row"] for e in result.errors] == [1735]
    assert not Client.objects.exists() and not Contact.objects.exists()


def test_valid_only_mode_commits_only_the_valid_rows(org):
    rows = [_row(1), _row(2, **{"E-mail": "bad"}), _row(3), _row(3, contact="Second")]
    result = _import(org.manager, _csv(rows), mode="valid")
    assert result.status == ClientImport.Status.COMMITTED
    assert (result.created_count, result.error_count) == (2, 1)
    assert set(Client.objects.values_list("registration_number", flat=True)) == {uscc(1), uscc(3)}
    assert Client.objects.get(registration_number=uscc(3)).contacts.count() == 2


def test_a_dry_run_reports_without_writing(org):
    result = _import(org.manager, _csv([_row(1), _row(2)]), commit=False)
    assert result.status == ClientImport.Status.VALIDATED
    assert result.created_count == 2
    assert not Client.objects.exists()
    importing.run_import(result, by=org.manager, commit=True)
    assert result.status == ClientImport.Status.COMMITTED and Client.objects.count() == 2


# ------------------------------------------------------------------ re-import
def test_reimporting_the_same_file_updates_instead_of_duplicating(org):
    rows = [_row(i) for i in range(1, 6)] + [_row(1, contact="Second")]
    first = _import(org.manager, _csv(rows))
    assert (first.created_count, first.updated_count) == (5, 0)
    clients, contacts = Client.objects.count(), Contact.objects.count()
    assert (clients, contacts) == (5, 6)

    again = _import(org.manager, _csv(rows))
    assert again.status == ClientImport.Status.COMMITTED
    assert (again.created_count, again.updated_count, again.error_count) == (0, 5, 0)
    assert (Client.objects.count(), Contact.objects.count()) == (clients, contacts)

    changes = {"Status": "Dormant", "E-mail": "new@client.example"}
    rows[0] = _row(1, **changes)
    rows[5] = _row(1, contact="Second", **changes)
    rows[1] = _row(2, **{"Registration number": "", "Contact phone": "139 1111 2222"})
    rows.append(_row(9))
    changed = _import(org.manager, _csv(rows))
    assert (changed.created_count, changed.updated_count) == (1, 5)
    assert Client.objects.count() == 6 and Contact.objects.count() == 7
    first_client = Client.objects.get(registration_number=uscc(1))
    assert (first_client.status, first_client.email) == ("dormant", "new@client.example")
    # Matched on name + phone when the registration number is left out.
    second = Client.objects.get(registration_number=uscc(2))
    assert second.contacts.get().phone == "139 1111 2222"
    assert first_client.version > 1
    # One history row for the creation and one for the change; none for the
    # re-import that changed nothing.
    assert list(first_client.history.values_list("history_type", "status")) == [
        ("~", "dormant"),
        ("+", "active"),
    ]


def test_matching_uses_external_id_then_name_and_phone(org):
    by_ext = ClientFactory(owner=org.rep, name="Old name", external_id="ERP-1")
    by_name = ClientFactory(owner=org.rep, name="Zhongshan Tools Co., Ltd.", phone="0760 8888 1234")
    ContactFactory(client=by_name, name="Zhou", email="zhou@zs.example", is_primary=True)
    header = [
        "Client name",
        "External id",
        "Phone",
        "Contact name",
        "Contact e-mail",
        "Primary contact",
    ]
    rows = [
        ["New name", "ERP-1", "", "Anna", "anna@x.example", "yes"],
        ["ZHONGSHAN TOOLS", "", "0760-8888-1234", "Zhou Min", "zhou@zs.example", ""],
        ["Zhongshan Tools", "", "0760 8888 1234", "Qian", "qian@zs.example", "yes"],
    ]
    result = _import(org.manager, _csv(rows, header))
    assert result.status == ClientImport.Status.FAILED  # rows 3 and 4 contradict on the name
    rows[1][0] = rows[2][0] = "Zhongshan Tools Co., Ltd."
    rows[1][2] = rows[2][2]
    result = _import(org.manager, _csv(rows, header))
    assert result.status == ClientImport.Status.COMMITTED, result.errors
    assert (result.created_count, result.updated_count) == (0, 2)
    by_ext.refresh_from_db()
    assert by_ext.name == "New name"
    assert by_name.contacts.count() == 2
    zhou = by_name.contacts.get(email="zhou@zs.example")
    assert zhou.name == "Zhou Min" and not zhou.is_primary  # the file made Qian primary
    assert by_name.contacts.get(is_primary=True).name == "Qian"


def test_support_must_name_owners_and_cannot_change_them(org):
    rows = [_row(1, **{"Owner (username)": ""})]
    result = _import(org.support, _csv(rows))
    assert result.status == ClientImport.Status.FAILED
    assert "support staff do not own clients" in result.errors[0]["message"]
    created = _import(org.support, _csv([_row(1)]))
    assert created.status == ClientImport.Status.COMMITTED
    assert Client.objects.get().owner == org.rep
    reassign = _import(org.support, _csv([_row(1, **{"Owner (username)": "peer_rep"})]))
    assert reassign.status == ClientImport.Status.FAILED
    assert "may not change the owner" in reassign.errors[0]["message"]
    assert Client.objects.get().owner == org.rep


def test_clients_of_other_regions_are_not_touched(org):
    north = ClientFactory(owner=org.outsider, name="North Co", registration_number=uscc(1))
    result = _import(org.manager, _csv([_row(1)]))
    assert result.status == ClientImport.Status.FAILED
    assert "not yours to change" in result.errors[0]["message"]
    north.refresh_from_db()
    assert north.name == "North Co" and not north.contacts.exists()


def test_the_last_mapping_is_remembered(org):
    header = ["Firma", "Telefon", "Ansprechpartner"]
    upload = importing.import_create(
        by=org.manager,
        uploaded_file=SimpleUploadedFile("a.csv", _csv([["Acme", "021 5555 0000", "Max"]], header)),
        mode="all",
    )
    assert upload.column_mapping == {"Firma": "", "Telefon": "", "Ansprechpartner": ""}
    upload.column_mapping = {"Firma": "name", "Telefon": "phone", "Ansprechpartner": "contact_name"}
    upload.save()
    second = importing.import_create(
        by=org.manager,
        uploaded_file=SimpleUploadedFile("b.csv", _csv([["Beta", "", ""]], header)),
        mode="all",
    )
    assert second.column_mapping == upload.column_mapping
    other_user = importing.import_create(
        by=org.support,
        uploaded_file=SimpleUploadedFile("c.csv", _csv([["Beta", "", ""]], header)),
        mode="all",
    )
    assert other_user.column_mapping["Firma"] == ""


@pytest.mark.parametrize("size", [20, 200])
def test_the_import_runs_a_fixed_number_of_queries(org, size, django_assert_max_num_queries):
    rows = [_row(i) for i in range(1, size + 1)]
    client_import = importing.import_create(
        by=org.manager, uploaded_file=SimpleUploadedFile("c.csv", _csv(rows)), mode="all"
    )
    # lookups (users, scope, matches, grants, contacts), bulk writes with their
    # history rows, tags and the import row: not one query per row
    with django_assert_max_num_queries(30):
        importing.run_import(client_import, by=org.manager)
    assert Client.objects.count() == size
    with django_assert_max_num_queries(30):
        again = importing.run_import(
            importing.import_create(
                by=org.manager, uploaded_file=SimpleUploadedFile("c.csv", _csv(rows)), mode="all"
            ),
            by=org.manager,
        )
    assert again.updated_count == size


# ------------------------------------------------------------------ the pages
def test_support_uploads_maps_checks_and_imports(login, org):
    client = login(org.support)
    data = _csv([_row(1), _row(2, **{"E-mail": "bad"}), _row(3)])
    response = client.post(
        reverse("clients:import"), {"file": SimpleUploadedFile("c.csv", data), "mode": "all"}
    )
    client_import = ClientImport.objects.get()
    assert response["Location"] == reverse("clients:import-detail", args=[client_import.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="preview"' in page and "Client 1 Co., Ltd." in page
    assert "UTF-8" in page
    mapping = {f"col_{i}": client_import.column_mapping[h] for i, h in enumerate(HEADER)}
    client.post(response["Location"], {**mapping, "mode": "all", "action": "validate"})
    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.VALIDATED
    assert client_import.error_count == 1 and not Client.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert 'data-row="3"' in page and "Enter a valid email address." in page
    errors = client.get(reverse("clients:import-errors", args=[client_import.pk]))
    body = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1].startswith("3,E-mail,bad,")

    client.post(response["Location"], {**mapping, "mode": "all", "action": "commit"})
    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.FAILED and not Client.objects.exists()
    client.post(response["Location"], {**mapping, "mode": "valid", "action": "commit"})
    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.COMMITTED
    assert Client.objects.count() == 2
    history = client.get(reverse("clients:import")).content.decode()
    assert f'data-import="{client_import.pk}"' in history


def test_the_mapping_form_requires_a_name_column(login, org):
    client = login(org.manager)
    client_import = importing.import_create(
        by=org.manager, uploaded_file=SimpleUploadedFile("c.csv", _csv([_row(1)])), mode="all"
    )
    url = reverse("clients:import-detail", args=[client_import.pk])
    mapping = {f"col_{i}": "" for i in range(len(HEADER))}
    response = client.post(url, {**mapping, "mode": "all", "action": "commit"})
    assert "Choose the column that holds the client name." in response.content.decode()
    assert not Client.objects.exists()


@pytest.mark.parametrize("persona", ["rep", "peer_rep", "am", "peer_am", "outsider"])
def test_reps_and_account_managers_cannot_import(login, org, persona):
    client = login(getattr(org, persona))
    assert client.get(reverse("clients:import")).status_code == 403
    upload = SimpleUploadedFile("c.csv", _csv([_row(1)]))
    assert (
        client.post(reverse("clients:import"), {"file": upload, "mode": "all"}).status_code == 403
    )
    assert not ClientImport.objects.exists()


def test_imports_of_another_region_are_hidden(login, org):
    east = importing.import_create(
        by=org.support, uploaded_file=SimpleUploadedFile("east.csv", _csv([_row(1)])), mode="all"
    )
    peer = login(org.peer_manager)
    assert "east.csv" not in peer.get(reverse("clients:import")).content.decode()
    for name in ("clients:import-detail", "clients:import-errors"):
        assert peer.get(reverse(name, args=[east.pk])).status_code == 404
    history_csv = peer.get(reverse("clients:import"), {"export": "csv"})
    assert "east.csv" not in b"".join(history_csv.streaming_content).decode()
    manager = login(org.manager)
    assert "east.csv" in manager.get(reverse("clients:import")).content.decode()
    history_csv = manager.get(reverse("clients:import"), {"export": "csv"})
    assert "east.csv" in b"".join(history_csv.streaming_content).decode()
    # The manager may look but not run someone else's import.
    url = reverse("clients:import-detail", args=[east.pk])
    assert manager.get(url).status_code == 200
    assert manager.post(url, {"mode": "all", "action": "commit"}).status_code == 403

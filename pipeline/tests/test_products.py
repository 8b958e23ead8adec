"""The product catalogue and its materials, pages and API, per persona."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from pipeline.models import Product, ProductMaterial
from pipeline.tests.activity_factories import ProductFactory
from pipeline.tests.test_activity_pages import PERSONAS

pytestmark = pytest.mark.django_db
#: Who keeps the catalogue (pipeline.add/change_product, add/delete_productmaterial).
KEEPERS = {"director", "manager", "peer_manager", "support"}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pdf(name="brochure.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_per_persona(login, org, persona):
    product = ProductFactory(name="Line Scanner", category="Hardware")
    web = login(getattr(org, persona))
    listing = web.get(reverse("pipeline:product-list"))
    assert listing.status_code == 200 and "Line Scanner" in listing.content.decode()
    detail = web.get(reverse("pipeline:product-detail", args=[product.pk]))
    assert detail.status_code == 200 and "Saves an hour a day" in detail.content.decode()
    keeper = persona in KEEPERS
    assert web.get(reverse("pipeline:product-create")).status_code == (200 if keeper else 403)
    assert web.get(reverse("pipeline:product-edit", args=[product.pk])).status_code == (
        200 if keeper else 403
    )
    upload = web.post(
        reverse("pipeline:material-upload", args=[product.pk]),
        {"kind": "brochure", "title": f"Brochure {persona}", "file": pdf()},
    )
    assert upload.status_code == (302 if keeper else 403)
    assert ProductMaterial.objects.filter(title=f"Brochure {persona}").exists() == keeper
    assert ("Upload material" in detail.content.decode()) == keeper


def test_missing_products_and_materials_are_404(login, org):
    web = login(org.rep)
    assert web.get(reverse("pipeline:product-detail", args=[999999])).status_code == 404
    assert web.get(reverse("pipeline:material-download", args=[999999])).status_code == 404


def test_search_category_filter_sort_and_export(login, org):
    ProductFactory(
        name="Line Scanner", code="LS-1", category="Hardware", unit_price=Decimal("1200000")
    )
    ProductFactory(
        name="Cloud Sync", code="CS-1", category="Software", feature="Syncs offline sites"
    )
    ProductFactory(name="Old Thing", code="OT-1", category="Hardware", is_active=False)
    web = login(org.rep)

    def names(query):
        html = web.get(reverse("pipeline:product-list") + query).content.decode()
        return [n for n in ("Cloud Sync", "Line Scanner", "Old Thing") if n in html]

    assert names("") == ["Cloud Sync", "Line Scanner"]
    assert names("?category=Hardware") == ["Line Scanner"]
    assert names("?category=Hardware&active=all") == ["Line Scanner", "Old Thing"]
    assert names("?q=offline") == ["Cloud Sync"]
    html = web.get(reverse("pipeline:product-list") + "?sort=-price").content.decode()
    assert html.index("Line Scanner") < html.index("Cloud Sync")
    assert "¥1,200,000.00" in html
    csv = b"".join(
        web.get(reverse("pipeline:product-list") + "?export=csv").streaming_content
    ).decode("utf-8-sig")
    assert "LS-1" in csv and "Syncs offline sites" in csv and "OT-1" not in csv


def test_editing_a_product(login, org):
    product = ProductFactory()
    web = login(org.support)
    response = web.post(
        reverse("pipeline:product-edit", args=[product.pk]),
        {
            "name": "Renamed",
            "code": product.code,
            "category": "Kits",
            "unit_price": "10.50",
            "currency": "CNY",
            "feature": "F",
            "advantage": "A",
            "benefit": "B",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.unit_price, product.benefit) == ("Renamed", Decimal("10.50"), "B")


def test_material_download_and_delete(login, org):
    product = ProductFactory()
    login(org.support).post(
        reverse("pipeline:material-upload", args=[product.pk]),
        {"kind": "spec_sheet", "title": "Specs", "file": pdf("specs.pdf")},
    )
    material = ProductMaterial.objects.get()
    response = login(org.rep).get(reverse("pipeline:material-download", args=[material.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert 'attachment; filename="Specs.pdf"' in response["Content-Disposition"]
    assert (
        login(org.rep).post(reverse("pipeline:material-delete", args=[material.pk])).status_code
        == 403
    )
    assert (
        login(org.support).post(reverse("pipeline:material-delete", args=[material.pk])).status_code
        == 302
    )
    assert not ProductMaterial.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("tool.exe", b"MZ\x90\x00" * 10), "Files of this type are not accepted"),
        (SimpleUploadedFile("brochure.pdf", b"MZ\x90\x00" * 10), "does not match its name"),
        (SimpleUploadedFile("deck.pptx", PDF), "does not match its name"),
        (SimpleUploadedFile("empty.pdf", b""), "empty"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * 3000), "at most"),
    ],
)
def test_upload_limits(login, org, settings, upload, message):
    settings.SALESORG_MATERIAL_MAX_BYTES = 2048
    product = ProductFactory()
    response = login(org.support).post(
        reverse("pipeline:material-upload", args=[product.pk]),
        {"kind": "brochure", "title": "x", "file": upload},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProductMaterial.objects.exists()


def test_other_accepted_types(login, org):
    product = ProductFactory()
    web = login(org.manager)
    for name, content in (
        ("deck.pptx", b"PK\x03\x04rest-of-zip"),
        ("photo.png", b"\x89PNG\r\n\x1a\n....."),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42...."),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...."),
    ):
        response = web.post(
            reverse("pipeline:material-upload", args=[product.pk]),
            {"kind": "demo_deck", "title": name, "file": SimpleUploadedFile(name, content)},
        )
        assert response.status_code == 302, name
    assert ProductMaterial.objects.count() == 4


# ----------------------------------------------------------------------- API
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_per_persona(org, persona):
    product = ProductFactory()
    client = APIClient()
    client.force_authenticate(getattr(org, persona))
    listing = client.get("/api/v1/products/")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    assert client.get(f"/api/v1/products/{product.pk}/").json()["benefit"] == "Saves an hour a day"
    keeper = persona in KEEPERS
    created = client.post(
        "/api/v1/products/",
        {"name": "New", "code": f"N-{persona}", "unit_price": "5.00"},
        format="json",
    )
    assert created.status_code == (201 if keeper else 403)
    patched = client.patch(f"/api/v1/products/{product.pk}/", {"name": "Changed"}, format="json")
    assert patched.status_code == (200 if keeper else 403)
    upload = client.post(
        f"/api/v1/products/{product.pk}/materials/",
        {"kind": "case_study", "title": "Case", "file": pdf("case.pdf")},
        format="multipart",
    )
    assert upload.status_code == (201 if keeper else 403), upload.content
    deleted = client.delete(f"/api/v1/products/{product.pk}/")
    assert deleted.status_code == (204 if keeper else 403)
    assert Product.objects.filter(pk=product.pk).exists() != keeper


def test_api_upload_is_checked_and_listed(org):
    product = ProductFactory()
    client = APIClient()
    client.force_authenticate(org.support)
    bad = client.post(
        f"/api/v1/products/{product.pk}/materials/",
        {"kind": "brochure", "file": SimpleUploadedFile("x.pdf", b"<html>")},
        format="multipart",
    )
    assert bad.status_code == 400 and "file" in bad.json()
    good = client.post(
        f"/api/v1/products/{product.pk}/materials/",
        {"kind": "brochure", "file": pdf()},
        format="multipart",
    )
    assert good.status_code == 201
    materials = client.get(f"/api/v1/products/{product.pk}/").json()["materials"]
    assert [m["title"] for m in materials] == ["brochure.pdf"]
    assert materials[0]["download_url"].endswith("/download/")

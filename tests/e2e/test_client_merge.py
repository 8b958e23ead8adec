"""Support finds a duplicate client on the data-quality page and merges it."""

import re

import pytest

from accounts.models import User
from clients.models import Client, Contact
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def role_permissions(demo_company):
    """Give the role groups their default permissions again.

    The migrations fill them; a transactional test earlier in the same run
    flushes every table, and the groups come back empty (the lead may want
    this in ``demo_company`` itself).
    """
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import ROLE_PERMISSIONS, group_name

    ids = {
        f"{app}.{codename}": pk
        for pk, app, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        group.permissions.add(*(ids[p] for p in perms if p in ids))


def test_support_finds_a_duplicate_and_merges_it(page, role_permissions):
    rep1 = User.objects.get(username="rep1")
    survivor = Client.objects.create(
        name="Huadong Cold Chain Logistics Co., Ltd.", owner=rep1, phone="021 5555 0101"
    )
    duplicate = Client.objects.create(
        name="HUADONG COLD CHAIN LOGISTICS", owner=rep1, industry="Logistics"
    )
    Contact.objects.create(client=duplicate, name="Zhang Wei", email="zhang@huadong.example")

    sign_in(page, "support1")
    page.wait_for_url(re.compile(r"/dashboard/support/$"))
    page.get_by_role("button", name="Data").click()
    page.get_by_role("link", name="Data quality", exact=True).click()
    page.wait_for_url(re.compile(r"/clients/quality/"))
    page.get_by_test_id("duplicate-search").fill("Huadong cold chain")
    page.get_by_role("button", name="Filter").click()
    group = page.get_by_test_id("duplicate-group").filter(has_text="huadongcoldchainlogistics")
    assert group.count() == 1
    assert "HUADONG COLD CHAIN LOGISTICS" in group.inner_text()
    group.get_by_test_id("merge-link").click()

    page.wait_for_url(re.compile(r"/clients/merge/"))
    preview = page.get_by_test_id("merge-preview")
    assert "Contacts: 1" in preview.inner_text()
    assert "Logistics" in preview.inner_text()  # the survivor's empty industry is filled
    page.get_by_test_id("merge-confirm").click()

    page.wait_for_url(re.compile(r"/clients/quality/"))
    assert "Merged 1 client into Huadong Cold Chain Logistics Co., Ltd." in page.content()
    assert page.get_by_test_id("duplicate-group").count() == 0
    assert not Client.objects.filter(pk=duplicate.pk).exists()
    survivor.refresh_from_db()
    assert survivor.industry == "Logistics"
    assert list(survivor.contacts.values_list("name", flat=True)) == ["Zhang Wei"]
    assert page.console_errors == []

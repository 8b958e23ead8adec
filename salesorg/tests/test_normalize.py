"""Names and phones are matched in their normalised forms."""

import pytest

from salesorg.lib.normalize import normalize_name, normalize_phone


@pytest.mark.parametrize(
    "written,expected",
    [
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 21 5555 0001", "02155550001"),
        ("021-5555-0001", "02155550001"),
        ("（021）5555 0001", "02155550001"),
        ("", ""),
    ],
)
def test_one_phone_number_written_many_ways_normalises_once(written, expected):
    assert normalize_phone(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "上海华信科技有限公司",
        "上海华信科技",
        "上海华信科技（集团）有限公司",
        " 上海华信科技 有限公司 ",
    ],
)
def test_legal_forms_and_spacing_do_not_tell_companies_apart(written):
    assert normalize_name(written) == "上海华信科技"


def test_english_legal_forms():
    assert normalize_name("Acme Co., Ltd.") == normalize_name("ACME") == "acme"

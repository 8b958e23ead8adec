"""A dashboard table draws its first rows and downloads them all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.loader import get_template, render_to_string
from django.test import override_settings
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from reports.dashboards.widgets import Badge, LazyRows, Link, Table


def test_a_long_table_shows_its_first_rows_and_exports_every_row():
    rows = [[Link(f"Deal {n}", f"/pipeline/deals/{n}/"), n] for n in range(1, 21)]
    table = Table(key="long", title="Long", header=["Deal", "N"], rows=rows, export=False)
    html = render_to_string("reports/dashboards/_table.html", {"widget": table})
    assert html.count("<tr>") == 1 + 15  # the header and the first fifteen
    assert "Deal 15<" in html and "Deal 16<" not in html
    assert "And 5 more in the download." in html
    exported = table.report_table("stem")
    assert [r[0] for r in exported.rows] == [f"Deal {n}" for n in range(1, 21)]


def test_a_long_list_formats_only_the_rows_the_page_draws():
    made = []

    def row(n):
        made.append(n)
        return [Link(f"Deal {n}", f"/pipeline/deals/{n}/"), n]

    table = Table(key="lazy", title="", header=["Deal", "N"], rows=LazyRows(range(1, 101), row))
    html = render_to_string("reports/dashboards/_table.html", {"widget": table})
    assert made == list(range(1, 16))
    assert "Deal 15<" in html and "And 85 more in the download." in html
    exported = table.report_table("stem")
    assert [r[1] for r in exported.rows] == list(range(1, 101))


# ------------------------------------------------------- the table body in Python
#: The loop ``_table.html`` drew its rows with before ``Table.body_html``: kept here
#: so that every test compares against what the template really printed.
OLD_BODY = (
    '{% for row in widget.shown %}<tr>{% for cell in row %}<td{% if forloop.counter0 in widget.numeric %} class="text-end text-nowrap"{% endif %}>'  # noqa: E501
    '{% if cell.url %}<a href="{{ cell.url }}">{{ cell.text }}</a>{% elif cell.tone %}<span class="badge text-bg-{{ cell.tone }}">{{ cell.text }}</span>'  # noqa: E501
    "{% elif cell is None %}—{% else %}{{ cell }}{% endif %}</td>{% endfor %}</tr>{% endfor %}"
)


def every_kind_of_cell() -> Table:
    rows = [
        [
            Link('<script>alert("x")</script> & co', "/pipeline/deals/1/?a=1&b=<2>"),
            Badge("Late & <b>soon</b>", "danger"),
            None,
            "<b>bold</b> & 'quoted'",
            7,
            Decimal("1234.50"),
            1234567,
            SafeString("<i>already safe</i>"),
        ],
        [
            Link("No url <here>", ""),
            Badge("No tone <here>", ""),
            Badge('tone "odd"', "<x>"),
            Link(SafeString("<em>safe text</em>"), "/x/?q=\"'"),
            -9876543.25,
            True,
            date(2024, 3, 9),
            datetime(2024, 3, 9, 23, 30, tzinfo=UTC),
        ],
        [
            gettext_lazy("Won revenue"),
            {"url": "/dict/?a&b", "text": "<dict>"},
            {"tone": "success", "text": "dict badge"},
            {"other": 1},
            Decimal("-0.00"),
            10**12,
            "",
            0,
        ],
        [Link("short row", "/short/")],
        [],
    ]
    return Table(
        key="kinds", title="Kinds", header=list("abcdefgh"), rows=rows, numeric=frozenset({4, 5, 6})
    )


def old_body(table: Table) -> str:
    return Template(OLD_BODY).render(Context({"widget": table}))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("grouping", [False, True])
def test_the_table_body_built_in_python_is_the_body_the_template_drew(language, grouping):
    with override_settings(USE_THOUSAND_SEPARATOR=grouping), translation.override(language):
        table = every_kind_of_cell()
        old = old_body(table)
        assert table.body_html == old
        assert isinstance(table.body_html, SafeString)
    assert old.count("<tr>") == 5
    # what the template did with thousands: grouped only when the settings say so
    assert (">1,234,567</td>" in old) is grouping
    assert (">1234567</td>" in old) is not grouping


def test_the_whole_table_renders_as_before():
    template = get_template("reports/dashboards/_table.html")
    source = template.template.source
    assert "{{ widget.body_html }}" in source
    old_template = Template(source.replace("{{ widget.body_html }}", OLD_BODY))
    context = {"widget": every_kind_of_cell(), "params": {"querystring": "period=month&x=<1>"}}
    with translation.override("zh-hans"):
        assert template.render(context) == old_template.render(Context(context))


def test_a_script_in_a_cell_comes_out_escaped():
    table = Table(
        key="xss",
        title="",
        header=["a", "b", "c"],
        rows=[
            [
                Link("<script>x()</script>", '"><script>y()</script>'),
                Badge("<script>", "<s>"),
                "<script>z()</script>",
            ]
        ],
    )
    html = table.body_html
    assert "<script>" not in html
    assert (
        '<a href="&quot;&gt;&lt;script&gt;y()&lt;/script&gt;">&lt;script&gt;x()&lt;/script&gt;</a>'
        in html
    )
    assert '<span class="badge text-bg-&lt;s&gt;">&lt;script&gt;</span>' in html
    assert "<td>&lt;script&gt;z()&lt;/script&gt;</td>" in html

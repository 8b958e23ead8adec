"""A dashboard table draws its first rows and downloads them all."""

from __future__ import annotations

from django.template.loader import render_to_string

from reports.dashboards.widgets import LazyRows, Link, Table


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

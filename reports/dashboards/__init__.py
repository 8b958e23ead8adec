"""The role dashboards: what each role opens first (SPEC section 7, issue 6).

One page per role at ``/dashboard/<role>/``. Every dashboard reads its numbers
from ``reports.kpis`` (so a tile equals the API and the exports), takes the
same scope and period parameters as ``/api/v1/reports/`` (``params``), and is
made of three kinds of widget (``widgets``): tiles (a number that links to the
records behind it), charts (Chart.js; a click on a bar opens its records) and
tables (each downloadable as CSV or XLSX with ``?export=csv&table=<name>``).

``<role>.py`` builds one role's dashboard from a ``DashboardParams``;
``views.py`` picks the builder, renders it, and serves the drill-down page
``/dashboard/records/<kpi>/`` that lists the records behind any number (always
starting from the model's ``visible_to(viewer)``).
"""

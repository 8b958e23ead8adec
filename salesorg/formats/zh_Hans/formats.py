"""Simplified Chinese number format for salesorg: money grouped by thousands.

Django's zh_Hans locale groups nothing (``THOUSAND_SEPARATOR = ""``); Chinese
business documents write ¥1,234,567.00. Everything else falls back to Django's
zh_Hans formats.
"""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

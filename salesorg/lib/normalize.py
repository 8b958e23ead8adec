"""Normalised forms of names, phones and e-mails, for matching duplicates.

Stored next to the original (``name_normalized``, ``phone_normalized``) so that
duplicate checks, imports and search are index lookups, not Python loops.
"""

from __future__ import annotations

import re
import unicodedata

# Legal-form words that do not tell two companies apart: "上海华为有限公司" and
# "上海华为" are the same client to a sales team, as are "Acme Ltd." and "ACME".
_COMPANY_SUFFIXES = [
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
    "company limited",
    "co., ltd.",
    "co.,ltd.",
    "co. ltd.",
    "co ltd",
    "corporation",
    "incorporated",
    "limited",
    "company",
    "group",
    "corp",
    "gmbh",
    "inc",
    "ltd",
    "llc",
    "plc",
    "co",
]
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize_name(name: str) -> str:
    """Lower-case, full-width folded, legal suffixes and punctuation removed."""
    text = unicodedata.normalize("NFKC", name or "").strip().lower()
    text = text.replace("（", "(").replace("）", ")")
    text = re.sub(r"\(.*?\)", " ", text)  # "(中国)", "(Shanghai)"
    changed = True
    while changed:
        changed = False
        stripped = text.rstrip(" .,")
        for suffix in _COMPANY_SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                text = stripped[: -len(suffix)]
                changed = True
                break
    return _PUNCT.sub("", text)


def normalize_phone(phone: str) -> str:
    """Digits only, without China's country code, so +86 138-0000-0000 matches 13800000000."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()

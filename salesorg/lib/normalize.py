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
    """Digits in China's domestic form, so that the ways one number is written match.

    "+86 138-0013-8000", "0086 13800138000" and "138 0013 8000" all give
    "13800138000"; "+86 21 5555 0001" and "021-5555-0001" both give
    "02155550001" (the trunk 0 comes back when the country code goes).
    """
    text = unicodedata.normalize("NFKC", phone or "").strip()
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+") or digits.startswith("00")
    if digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and (international or len(digits) == 13):
        digits, international = digits[2:], True
    elif international:
        return digits.lstrip("0")  # another country: keep its code, drop the 00
    if international and digits and not digits.startswith("1") and not digits.startswith("0"):
        digits = "0" + digits  # a landline: 21 5555 0001 → 021 5555 0001
    return digits


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()

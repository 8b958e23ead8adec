"""Validators for client master data, with messages a user can act on."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from salesorg.lib.normalize import normalize_phone

# China's unified social credit code (统一社会信用代码, GB 32100-2015): 18
# characters from this 31-letter alphabet, the last one a checksum.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_registration_number(value: str) -> None:
    code = (value or "").strip().upper()
    if not code:
        return
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)s."),
            code="uscc_length",
            params={"n": len(code)},
        )
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            _(
                "“%(chars)s” cannot appear in a unified social credit code (I, O, S, V and Z "
                "are never used)."
            ),
            code="uscc_chars",
            params={"chars": "".join(bad)},
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The last character of this code does not match its checksum: check for a typo."),
            code="uscc_checksum",
        )


_PHONE_CHARS = re.compile(r"^[0-9+()\-\s.ext]*$", re.IGNORECASE)


def validate_phone(value: str) -> None:
    if not value:
        return
    digits = normalize_phone(value)
    if not _PHONE_CHARS.match(value.strip()) or not 7 <= len(digits) <= 15:
        raise ValidationError(
            _(
                "“%(value)s” is not a phone number: use digits, spaces, dashes and an optional "
                "leading +, e.g. +86 21 5555 1234 or 138 0013 8000."
            ),
            code="phone",
            params={"value": value},
        )

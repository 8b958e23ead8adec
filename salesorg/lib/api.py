"""API plumbing shared by every app."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from salesorg.lib.concurrency import StaleWrite


class Conflict(exceptions.APIException):
    """A write based on a stale copy of the record (optimistic concurrency)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record was changed by someone else since you loaded it."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn the model layer's Django exceptions into API answers.

    Services raise Django's ``ValidationError``; the API answers 400 with the
    same messages the pages show.
    """
    if isinstance(exc, StaleWrite):
        exc = Conflict(str(StaleWrite.message))
    elif isinstance(exc, DjangoValidationError):
        detail: Any
        if hasattr(exc, "error_dict"):
            detail = {
                field: [str(m) for e in errs for m in e.messages]
                for field, errs in exc.error_dict.items()
            }
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)

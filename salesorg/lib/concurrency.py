"""Optimistic concurrency: a write must be based on the version it read.

Records people edit carry a ``version`` that every save increments. A form or
API client sends back the version it loaded; if someone saved in between, the
conditional UPDATE matches no row and the writer gets a ``StaleWrite`` (a form
error or HTTP 409) instead of silently overwriting the other person's change.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class StaleWrite(Exception):
    """The record changed since the writer loaded it."""

    message = _(
        "Someone else changed this record after you opened it. Reload to see their "
        "changes, then make yours again."
    )

    def __init__(self, obj: models.Model | None = None) -> None:
        super().__init__(str(self.message))
        self.obj = obj


class VersionedModel(models.Model):
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False, help_text=_("Increases with every save.")
    )

    class Meta:
        abstract = True

    def save_versioned(self, *, expected_version: int | None, **kwargs: Any) -> None:
        """Save only if the stored version is still ``expected_version``.

        ``None`` means "no check" (internal jobs); a new record is simply saved.
        The check and the claim are one ``UPDATE ... WHERE version = N``, so of
        two concurrent writers exactly one passes; the other gets ``StaleWrite``.
        """
        with transaction.atomic():
            if self._state.adding:
                self.save(**kwargs)
                return
            model = type(self)
            if expected_version is None:
                expected_version = (
                    model._base_manager.select_for_update()
                    .values_list("version", flat=True)
                    .get(pk=self.pk)
                )
            claimed = model._base_manager.filter(pk=self.pk, version=expected_version).update(
                version=expected_version + 1
            )
            if not claimed:
                raise StaleWrite(self)
            self.version = expected_version + 1
            self.save(**kwargs)

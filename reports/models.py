"""Operations records and, later, KPI rollups."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a scheduled job: when, what it did, and what went wrong.

    ``slot`` names the schedule slot a run belongs to (e.g. "2026-11-27" for a
    daily job, "2026-11-27T09:15" for a 15-minute one). It is unique per job,
    so when two beat processes send the same slot, or the broker redelivers
    it, only the first run claims it and the others do nothing.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    job = models.CharField(_("job"), max_length=80)
    slot = models.CharField(_("slot"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    summary = models.JSONField(_("what it did"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="jobrun_once_per_slot")]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="jobrun_job_idx"),
            # the operations page lists every run newest first
            models.Index(fields=["-started_at"], name="jobrun_started_idx"),
        ]
        permissions = [("view_operations", _("Can see the operations page (job runs)"))]

    def __str__(self) -> str:
        return f"{self.job} {self.slot}"

    @property
    def duration_seconds(self) -> float | None:
        """How long the run took (``None`` while it runs)."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 2)

    @property
    def error_line(self) -> str:
        """The last line of the traceback: the exception and its message."""
        lines = self.error.strip().splitlines()
        return lines[-1] if lines else ""

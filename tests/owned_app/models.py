"""A small owned model for testing the visibility machinery on its own.

A notebook is its owner's and its reviewer's (two owner fields, like a client's
owner and account manager); a page follows its notebook (like a contact its
client); notebooks can be shared through a direct guardian permission model.
"""

from django.conf import settings
from django.db import models
from guardian.models import UserObjectPermissionBase

from accounts.visibility import FollowsParent, OwnedBy, VisibleQuerySet


class Notebook(models.Model):
    title = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    visibility = OwnedBy("owner", "reviewer")
    objects = VisibleQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title


class Page(models.Model):
    notebook = models.ForeignKey(Notebook, on_delete=models.CASCADE, related_name="pages")
    text = models.CharField(max_length=100)

    visibility = FollowsParent("notebook")
    objects = VisibleQuerySet.as_manager()

    def __str__(self) -> str:
        return self.text


class NotebookUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Notebook, on_delete=models.CASCADE)

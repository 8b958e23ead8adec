"""The visibility rule for REST API viewsets, written once.

Every owned model's viewset subclasses ``VisibleModelViewSet``: lists and
lookups start from ``Model.objects.visible_to(user)`` (so another person's
record answers 404), and writes need both the role's permission and the right
on that record (403 when the user may see it but not change it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request

from accounts.visibility import access_for

_ACTION_PERM = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class VisibleObjectPermission(permissions.BasePermission):
    """Role permission for the action, then the user's right on the record.

    On a single record "not yours" (404) comes before "not allowed" (403): the
    role permission is checked together with the record, after the lookup
    through ``visible_to`` has answered 404 for anything the caller cannot see.
    """

    def _role_perm(self, request: Request, view: Any) -> str | None:
        extra = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if extra:
            return extra
        verb = _ACTION_PERM.get(request.method)
        if verb is None:
            return None
        opts = view.get_queryset().model._meta
        return f"{opts.app_label}.{verb}_{opts.model_name}"

    @staticmethod
    def _is_detail(view: Any) -> bool:
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        return view.kwargs.get(lookup) is not None

    def _has_role_perm(self, request: Request, view: Any) -> bool:
        perm = self._role_perm(request, view)
        return perm is None or request.user.has_perm(perm)

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS or self._is_detail(view):
            return True
        return self._has_role_perm(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: models.Model) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if not self._has_role_perm(request, view):
            return False
        access = access_for(request.user, obj)
        return access.can_delete if request.method == "DELETE" else access.can_change


class VisibleModelViewSet(viewsets.ModelViewSet):
    """A model viewset that only ever sees what the caller may see.

    Subclasses set ``model`` (and usually ``serializer_class``); they may
    override ``get_queryset`` to add ``select_related`` but must start from
    ``super().get_queryset()``. ``action_permissions`` maps custom actions to
    the role permission they need (e.g. ``{"move": "pipeline.move_deal"}``).
    """

    model: ClassVar[type[models.Model]]
    action_permissions: ClassVar[dict[str, str]] = {}
    permission_classes = [permissions.IsAuthenticated, VisibleObjectPermission]

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.visible_to(self.request.user)  # type: ignore[attr-defined]


class VersionedModelSerializer(serializers.ModelSerializer):
    """Updates must send back the ``version`` they read; a stale one answers 409.

    The check and the write are one conditional UPDATE
    (``VersionedModel.save_versioned``), so two clients editing at once cannot
    both win: the second gets 409 Conflict and nothing of theirs is applied.
    """

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read. Required when updating; if the record changed since, "
        "the update is refused with 409 Conflict.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.instance is not None and "version" not in attrs:
            raise serializers.ValidationError(
                {"version": "Send the version you read, so that nobody's change is overwritten."}
            )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Any:
        validated_data.pop("version", None)
        return super().create(validated_data)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        expected = validated_data.pop("version")
        many = {}
        for field in instance._meta.many_to_many:
            if field.name in validated_data:
                many[field.name] = validated_data.pop(field.name)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save_versioned(expected_version=expected)
        for name, value in many.items():
            getattr(instance, name).set(value)
        return instance

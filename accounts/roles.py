"""Who may do what: the default permissions of each role's group.

Each role is one Django group (named after the role's value) holding Django
permissions, so an administrator can adjust a role without code. This module is
the one place that names those defaults; each app's data migration applies the
entries for its own models with ``apply_role_defaults``.

Object access is a separate matter (``accounts.visibility``): a permission
here says what a role may do at all, visibility says to which records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.models import Role

_CRUD = ("view", "add", "change", "delete")


def _crud(app_model: str, actions: Iterable[str] = _CRUD) -> set[str]:
    app, model = app_model.split(".")
    return {f"{app}.{action}_{model}" for action in actions}


def _perms(app: str, models: Iterable[str], actions: Iterable[str] = _CRUD) -> set[str]:
    return {perm for model in models for perm in _crud(f"{app}.{model}", actions)}


_CLIENT_CUSTOM = {
    "clients.share_client",
    "clients.assign_account_manager",
    "clients.merge_client",
    "clients.import_client",
    "clients.export_client",
    "clients.revert_client",
    "clients.change_client_ownership",
}
_PIPELINE_MODELS = (
    "lead",
    "deal",
    "dealstagechange",
    "activity",
    "objection",
    "product",
    "productmaterial",
    "quote",
    "quoteline",
    "quoteapproval",
    "contract",
    "contractfile",
    "project",
    "milestone",
    "task",
    "target",
    "event",
    "stage",
)
_CARE_MODELS = ("complaint", "complaintentry", "complaintescalation")
_SURVEY_MODELS = (
    "surveytemplate",
    "surveyquestion",
    "surveycampaign",
    "surveyinvitation",
    "surveyresponse",
    "surveyanswer",
)
#: what everyone in a client's hierarchy may do with complaints (SPEC section 3)
_COMPLAINT_WORK = {
    *_perms("clients", ("complaint", "complaintentry"), ("view", "add", "change")),
    "clients.view_complaintescalation",
}
_PIPELINE_CUSTOM = {
    "pipeline.move_deal",
    "pipeline.reassign_deal",
    "pipeline.approve_discount",
    "pipeline.set_target",
}

_LEADERSHIP = {
    *_perms("clients", ("client", "contact", "tag", "savedfilter", "clientimport")),
    *_CLIENT_CUSTOM,
    *_perms("pipeline", _PIPELINE_MODELS),
    *_PIPELINE_CUSTOM,
    *_perms("clients", _CARE_MODELS + _SURVEY_MODELS),
    "reports.view_jobrun",
    # --- complaints (care-complaints): managers give a complaint to another owner
    "clients.reassign_complaint",
}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.DIRECTOR: {
        *_crud("accounts.user", ("view", "add", "change")),
        *_crud("accounts.team"),
        "accounts.manage_users",
        "accounts.view_handover",
        *_LEADERSHIP,
        "reports.view_operations",
    },
    Role.MANAGER: {
        *_crud("accounts.user", ("view", "add", "change")),
        "accounts.view_team",
        "accounts.manage_users",
        "accounts.view_handover",
        # --- pipeline-sales: stages are company-wide; only the director edits them
        *(_LEADERSHIP - _perms("pipeline", ("stage",), ("add", "change", "delete"))),
    },
    Role.ACCOUNT_MANAGER: {
        "accounts.view_user",
        "accounts.view_team",
        *_crud("clients.client", ("view", "add", "change")),
        *_perms("clients", ("contact", "savedfilter")),
        "clients.view_tag",
        "clients.add_tag",
        "clients.share_client",
        "clients.export_client",
        *_perms(
            "pipeline",
            ("lead", "activity", "objection", "quote", "quoteline", "project", "milestone", "task"),
            ("view", "add", "change", "delete"),
        ),
        *_perms("pipeline", ("deal", "contract", "contractfile"), ("view", "add", "change")),
        *_perms(
            "pipeline",
            ("product", "productmaterial", "stage", "target", "event", "dealstagechange"),
            ("view",),
        ),
        "pipeline.view_quoteapproval",
        "pipeline.add_quoteapproval",
        "pipeline.move_deal",
        *_COMPLAINT_WORK,
        *_perms("clients", _SURVEY_MODELS, ("view",)),
    },
    Role.REP: {
        "accounts.view_user",
        "accounts.view_team",
        *_crud("clients.client", ("view", "add", "change")),
        *_perms("clients", ("contact", "savedfilter")),
        "clients.view_tag",
        "clients.add_tag",
        "clients.share_client",
        "clients.export_client",
        *_perms(
            "pipeline", ("activity", "objection", "quoteline"), ("view", "add", "change", "delete")
        ),
        *_perms("pipeline", ("lead", "deal", "quote"), ("view", "add", "change")),
        *_perms(
            "pipeline",
            (
                "product",
                "productmaterial",
                "stage",
                "target",
                "event",
                "dealstagechange",
                "contract",
                "contractfile",
                "project",
                "milestone",
                "task",
            ),
            ("view",),
        ),
        "pipeline.view_quoteapproval",
        "pipeline.add_quoteapproval",
        "pipeline.move_deal",
        *_COMPLAINT_WORK,
        *_perms("clients", _SURVEY_MODELS, ("view",)),
    },
    Role.SUPPORT: {
        "accounts.view_user",
        "accounts.view_team",
        *_crud("clients.client", ("view", "add", "change")),
        *_perms("clients", ("contact", "tag", "savedfilter", "clientimport")),
        "clients.merge_client",
        "clients.import_client",
        "clients.export_client",
        *_perms("pipeline", ("event", "product", "productmaterial")),
        *_perms("pipeline", ("lead",), ("view", "add", "change")),
        *_perms("pipeline", ("contractfile",), ("view", "add")),
        *_perms(
            "pipeline",
            (
                "deal",
                "dealstagechange",
                "activity",
                "objection",
                "quote",
                "quoteline",
                "quoteapproval",
                "contract",
                "project",
                "milestone",
                "task",
                "target",
                "stage",
            ),
            ("view",),
        ),
        *_perms("clients", ("complaint", "complaintentry"), ("view", "add")),
        "clients.view_complaintescalation",
        *_perms("clients", _SURVEY_MODELS),
    },
}

# --- planning and team tools, weekly sales reports (reports-planning) ----------------
# Plans, research, risks, improvement actions and personnel records are the
# managers' (DESIGN: "risk register, plans, reviews"); the people below read what
# is theirs or shared with them, work on the risks and actions they own, and write
# their own weekly report. Support staff collect research and read team reports.
_PLANNING_MODELS = (
    "salesplan",
    "planmilestone",
    "competitor",
    "marketanalysis",
    "risk",
    "improvementaction",
    "improvementevaluation",
    "performancereview",
    "trainingrecord",
    "skillassessment",
)
_PERSONNEL = ("performancereview", "trainingrecord", "skillassessment")
_WEEKLY_READ = {"reports.view_weeklyreport", "reports.view_weeklyreportcomment"}
_WEEKLY_WRITE = _perms("reports", ("weeklyreport",))
for _role in (Role.DIRECTOR, Role.MANAGER):
    ROLE_PERMISSIONS[_role] |= {
        *_perms("reports", _PLANNING_MODELS),
        *_WEEKLY_READ,
        "reports.comment_weeklyreport",
    }
ROLE_PERMISSIONS[Role.ACCOUNT_MANAGER] |= {
    *_perms("reports", ("salesplan", "planmilestone", *_PERSONNEL), ("view",)),
    *_perms(
        "reports",
        ("competitor", "marketanalysis", "risk", "improvementaction", "improvementevaluation"),
        ("view", "add", "change"),
    ),
    *_WEEKLY_READ,
    *_WEEKLY_WRITE,
    "reports.comment_weeklyreport",
}
ROLE_PERMISSIONS[Role.REP] |= {
    *_perms(
        "reports",
        ("salesplan", "planmilestone", "competitor", "marketanalysis", *_PERSONNEL),
        ("view",),
    ),
    *_perms("reports", ("risk", "improvementaction"), ("view", "change")),
    *_perms("reports", ("improvementevaluation",), ("view", "add", "change")),
    *_WEEKLY_READ,
    *_WEEKLY_WRITE,
}
ROLE_PERMISSIONS[Role.SUPPORT] |= {
    *_perms(
        "reports",
        ("salesplan", "planmilestone", "risk", "improvementaction", "improvementevaluation"),
        ("view",),
    ),
    *_perms("reports", ("competitor", "marketanalysis"), ("view", "add", "change")),
    *_perms("reports", _PERSONNEL, ("view",)),
    *_WEEKLY_READ,
}
# --- end reports-planning -------------------------------------------------------------


def group_name(role: str) -> str:
    return str(role)


def apply_role_defaults(apps: Any, app_label: str) -> None:
    """Give each role's group the default permissions on ``app_label``'s models.

    For data migrations: it uses the historical ``apps`` registry and creates the
    app's permission rows first, since Django only does that after migrating.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=group_name(role))
        codenames = [p.split(".", 1)[1] for p in perms if p.startswith(f"{app_label}.")]
        if codenames:
            group.permissions.add(
                *permission_model.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


def missing_permissions() -> dict[str, set[str]]:
    """Defaults named here that no permission row exists for (a typo, a renamed model)."""
    from django.contrib.auth.models import Permission

    existing = {
        f"{app}.{code}"
        for app, code in Permission.objects.values_list("content_type__app_label", "codename")
    }
    return {role: perms - existing for role, perms in ROLE_PERMISSIONS.items() if perms - existing}

"""The columns of a client file: what import accepts and export writes.

One list, so that an exported file imports back unchanged (round trip) and a
header in English or Chinese — ours, or the ones Chinese Excel users tend to
type — is recognised without the user mapping it by hand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CLIENT = "client"
CONTACT = "contact"


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    target: str  # CLIENT or CONTACT
    field: str  # the model field it fills (owner/account_manager: a username; region: a name)
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        _("Client name"),
        CLIENT,
        "name",
        ("client", "company", "company name", "客户", "客户名称", "公司", "公司名称", "企业名称"),
    ),
    Column(
        "registration_number",
        _("Registration number"),
        CLIENT,
        "registration_number",
        ("uscc", "credit code", "统一社会信用代码", "信用代码", "注册号"),
    ),
    Column("external_id", _("External id"), CLIENT, "external_id", ("erp id", "外部编号")),
    Column("industry", _("Industry"), CLIENT, "industry", ("行业",)),
    Column("segment", _("Segment"), CLIENT, "segment", ("客户细分",)),
    Column("region", _("Sales region"), CLIENT, "region", ("region", "区域", "销售区域")),
    Column("address", _("Address"), CLIENT, "address", ("地址",)),
    Column("city", _("City"), CLIENT, "city", ("城市",)),
    Column("province", _("Province"), CLIENT, "province", ("省份", "省")),
    Column("website", _("Website"), CLIENT, "website", ("网站", "网址", "官网")),
    Column("phone", _("Phone"), CLIENT, "phone", ("client phone", "电话", "公司电话", "客户电话")),
    Column(
        "email", _("E-mail"), CLIENT, "email", ("client e-mail", "client email", "email", "邮箱")
    ),
    Column("status", _("Status"), CLIENT, "status", ("状态", "客户状态")),
    Column("source", _("Source"), CLIENT, "source", ("来源", "客户来源")),
    Column("cadence", _("Visit cadence"), CLIENT, "cadence", ("cadence", "拜访频率")),
    Column("owner", _("Owner (username)"), CLIENT, "owner", ("owner", "负责人", "所有者")),
    Column(
        "account_manager",
        _("Account manager (username)"),
        CLIENT,
        "account_manager",
        ("account manager", "am", "客户经理"),
    ),
    Column("tags", _("Tags"), CLIENT, "tags", ("标签",)),
    Column("notes", _("Client notes"), CLIENT, "notes", ("notes", "备注", "客户备注")),
    Column(
        "contact_name",
        _("Contact name"),
        CONTACT,
        "name",
        ("contact", "联系人", "联系人姓名", "姓名"),
    ),
    Column("contact_title", _("Contact title"), CONTACT, "title", ("职位", "职务")),
    Column("contact_department", _("Contact department"), CONTACT, "department", ("部门",)),
    Column(
        "contact_phone",
        _("Contact phone"),
        CONTACT,
        "phone",
        ("mobile", "手机", "手机号", "联系电话", "联系人电话"),
    ),
    Column(
        "contact_email",
        _("Contact e-mail"),
        CONTACT,
        "email",
        ("contact email", "联系人邮箱"),
    ),
    Column("contact_wechat_id", _("Contact WeChat ID"), CONTACT, "wechat_id", ("微信", "微信号")),
    Column(
        "contact_decision_role",
        _("Contact decision role"),
        CONTACT,
        "decision_role",
        ("decision role", "决策角色"),
    ),
    Column(
        "contact_is_primary",
        _("Primary contact"),
        CONTACT,
        "is_primary",
        ("primary", "主要联系人"),
    ),
    Column("contact_notes", _("Contact notes"), CONTACT, "notes", ("联系人备注",)),
)

BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}

_NON_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


def header_token(text: str) -> str:
    """A header reduced for matching: case, width, spaces and punctuation ignored."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", str(text or "")).lower())


def _tokens(column: Column) -> set[str]:
    names = {column.key, column.key.replace("_", " "), *column.aliases}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            names.add(str(column.label))
    return {header_token(n) for n in names if n}


def auto_mapping(headers: Iterable[str]) -> dict[str, str]:
    """Guess the column each header fills; each column is used at most once."""
    lookup: dict[str, str] = {}
    for column in COLUMNS:
        for token in _tokens(column):
            lookup.setdefault(token, column.key)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = lookup.get(header_token(header), "")
        if key and key not in used:
            mapping[header] = key
            used.add(key)
        else:
            mapping[header] = ""
    return mapping


#: Words people type for a choice besides its English and Chinese labels
#: (GLOSSARY.md terms and their everyday short forms).
CHOICE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "status": {
        "prospect": ("潜在", "潜在客户", "意向客户"),
        "active": ("活跃", "活跃客户", "合作中", "正常"),
        "dormant": ("休眠", "沉睡", "不活跃"),
        "lost": ("流失", "已流失", "丢失"),
    },
    "source": {
        "sales_visit": ("销售拜访", "拜访", "visit"),
        "website": ("网站注册", "网站", "官网", "website sign up", "web"),
        "trade_show": ("展会收集", "展会", "tradeshow"),
        "referral": ("客户推荐", "推荐", "转介绍"),
        "other": ("其他渠道", "其他", "其它"),
    },
    "cadence": {
        "weekly": ("每周一次", "每周"),
        "biweekly": ("每两周一次", "每两周", "双周", "every 2 weeks", "fortnightly"),
        "monthly": ("每月一次", "每月"),
        "quarterly": ("季度一次", "每季度", "季度"),
        "on_demand": ("按需拜访", "按需"),
    },
    "decision_role": {
        "decision_maker": ("决策者", "决策人"),
        "influencer": ("影响者", "影响人"),
        "user": ("使用者", "用户"),
        "gatekeeper": ("把关者", "守门人"),
    },
}

"""Every string of the interface is in English and Simplified Chinese."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

BASE = Path(__file__).resolve().parents[2]
APPS = ("accounts", "clients", "pipeline", "reports")


def _po_files() -> list[Path]:
    files = sorted(BASE.glob("locale/zh_Hans/LC_MESSAGES/django.po"))
    for app in APPS:
        files += sorted((BASE / app).glob("locale/zh_Hans/LC_MESSAGES/django.po"))
    return files


def _untranslated(po: polib.POFile) -> list[str]:
    return [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]


@pytest.mark.parametrize("path", _po_files(), ids=lambda p: str(p.relative_to(BASE)))
def test_catalogue_is_complete_and_compiled(path):
    po = polib.pofile(str(path))
    assert _untranslated(po) == []
    mo_path = path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    compiled = {
        (e.msgid, e.msgid_plural): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(mo_path))
    }
    for e in po:
        if e.obsolete or not e.msgid:
            continue
        assert (e.msgid, e.msgid_plural) in compiled, f"{e.msgid!r} is not compiled into {mo_path}"


def test_no_string_in_the_code_lacks_a_translation(tmp_path):
    """Extract the strings afresh (as `make messages` does) and look for new ones."""
    if shutil.which("xgettext") is None:
        pytest.fail(
            "GNU gettext (xgettext) is needed to check translations: apt-get install gettext"
        )
    for name in ("manage.py", "salesorg", "templates", "locale", *APPS):
        source = BASE / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy(source, target)
    env_cmd = [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans"]
    env = {
        "DJANGO_SETTINGS_MODULE": "salesorg.settings",
        "DEBUG": "1",
        "PYTHONPATH": str(tmp_path),
        "SALESORG_VAR_DIR": str(tmp_path / "var"),
        "PATH": "/usr/bin:/bin",
    }
    for app in APPS:
        if (tmp_path / app / "locale").exists():
            subprocess.run(env_cmd, cwd=tmp_path / app, env=env, check=True, capture_output=True)
    ignores = [f"--ignore={app}/*" for app in APPS] + ["--ignore=var/*"]
    subprocess.run([*env_cmd, *ignores], cwd=tmp_path, env=env, check=True, capture_output=True)
    missing = {}
    for po_path in tmp_path.rglob("zh_Hans/LC_MESSAGES/django.po"):
        untranslated = _untranslated(polib.pofile(str(po_path)))
        if untranslated:
            missing[str(po_path.relative_to(tmp_path))] = untranslated
    assert missing == {}, "strings without a Chinese translation (run `make messages`)"


@pytest.mark.django_db
def test_the_interface_switches_to_chinese_and_back(client, org):
    client.force_login(org.rep)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/org/"})
    assert response.status_code == 302
    html = client.get("/org/").content.decode()
    assert "组织架构" in html and "汇报关系" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/org/"})
    html = client.get("/org/").content.decode()
    assert "Reporting lines" in html and "汇报关系" not in html

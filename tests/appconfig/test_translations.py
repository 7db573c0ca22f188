"""The Italian of the app settings: the compiled catalogue the pages use
(authority/appconfig/locale) says exactly what locale/it/LC_MESSAGES/pending-appconfig.po
says, which is what gets merged into the project's django.po."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PENDING = ROOT / "locale" / "it" / "LC_MESSAGES" / "pending-appconfig.po"
COMPILED = ROOT / "authority" / "appconfig" / "locale" / "it" / "LC_MESSAGES" / "django.mo"


def _string(lines: str) -> str:
    return "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', lines))


def pending_entries() -> dict[str, str | tuple[str, str]]:
    entries: dict[str, str | tuple[str, str]] = {}
    for block in PENDING.read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not msgid or not _string(msgid.group(1)):
            continue
        plural = re.search(r'^msgstr\[0\] (".*")\nmsgstr\[1\] (".*")', block, re.M)
        if plural:
            entries[_string(msgid.group(1))] = (_string(plural.group(1)), _string(plural.group(2)))
        else:
            entries[_string(msgid.group(1))] = _string(
                re.search(r"^msgstr (.*)$", block, re.M).group(1)
            )
    return entries


def test_every_pending_translation_is_compiled_and_none_is_empty():
    with COMPILED.open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    entries = pending_entries()
    assert len(entries) > 300
    for msgid, msgstr in entries.items():
        if isinstance(msgstr, tuple):
            assert catalogue.ngettext(msgid, msgid + "s", 1) == msgstr[0]
            continue
        assert msgstr.strip(), msgid
        assert catalogue.gettext(msgid) == msgstr, msgid


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}")
    for msgid, msgstr in pending_entries().items():
        for text in msgstr if isinstance(msgstr, tuple) else (msgstr,):
            assert set(placeholder.findall(text)) == set(placeholder.findall(msgid)), msgid

"""The Italian catalogue keeps every placeholder of the English text: a translation that drops
or renames `%(name)s` or `{name}` breaks the page (KeyError) or loses the figure it shows.
`msgfmt --check-format` (scripts/check_translations.sh) covers only the entries flagged
python-format; this covers every entry, brace placeholders and plurals included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "it" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
FIELD = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) ((?:".*"\n?)+)', re.M)


def _entries() -> list[tuple[str, str, list[str]]]:
    """(msgid, msgid_plural, msgstrs) of every live entry but the header."""
    entries = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        fields: dict[str, str] = {}
        for name, value in FIELD.findall(block):
            fields[name] = "".join(
                ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', value)
            )
        if not fields.get("msgid"):
            continue
        strings = [text for name, text in fields.items() if name.startswith("msgstr")]
        entries.append((fields["msgid"], fields.get("msgid_plural", ""), strings))
    return entries


def test_the_catalogue_has_entries():
    assert len(_entries()) > 1000


def test_placeholders_survive_translation() -> None:
    broken = []
    for msgid, plural, strings in _entries():
        expected = set(PLACEHOLDER.findall(msgid)) | set(PLACEHOLDER.findall(plural))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            # A singular form may leave out the count ("un codice" for "%(count)s code").
            if not (found <= expected and (found == expected or plural)):
                broken.append((msgid, text))
    assert broken == []

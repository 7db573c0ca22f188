#!/usr/bin/env bash
# Every string the code and templates mark for translation has an Italian translation, not
# fuzzy, and the committed .mo is compiled from the committed .po. Run by .ci/run.
# Works on a copy: the repository's locale/ is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r authority tasks templates locale manage.py "$copy"/
(cd "$copy" && "$OLDPWD/.venv/bin/python" manage.py makemessages --locale it --no-obsolete -v 0)
po="$copy/locale/it/LC_MESSAGES/django.po"
missing=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid ' || true)
# msgattrib prints the header entry (msgid "") when anything is listed.
if [ "$missing" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
  echo "Untranslated or fuzzy Italian strings (run makemessages -l it, translate, compilemessages):" >&2
  msgattrib --untranslated --no-obsolete "$po" | grep -A1 '^msgid ' | grep -v '^msgid ""$' >&2 || true
  msgattrib --only-fuzzy --no-obsolete "$po" | grep -A1 '^msgid ' | grep -v '^msgid ""$' >&2 || true
  exit 1
fi
# The committed .mo says what the committed .po says.
msgfmt --check-format -o "$copy/compiled.mo" locale/it/LC_MESSAGES/django.po
msgunfmt locale/it/LC_MESSAGES/django.mo >"$copy/committed.txt"
msgunfmt "$copy/compiled.mo" >"$copy/expected.txt"
if ! diff -q "$copy/committed.txt" "$copy/expected.txt" >/dev/null; then
  echo "locale/it/LC_MESSAGES/django.mo is stale: run python manage.py compilemessages" >&2
  exit 1
fi
echo "Italian translations: complete and compiled"

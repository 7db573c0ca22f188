"""Italian dates as the authority writes them: "3 dicembre 2026, 08:14", "03/12/2026 08:14".

Django's own Italian formats zero-pad the day of long dates ("03 Dicembre 2026"), put the
weekday in front of every date and time, and give date inputs 05/09/2026, which a browser's
date field refuses; these are the common ones instead. Month and weekday names are lowercase
through authority/l10n/locale (Django's catalogue capitalises them, which Italian does not)."""

from authority.l10n.formats.common import *  # noqa: F403 (Django reads the module's names)

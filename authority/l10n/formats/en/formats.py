"""English dates as the authority writes them: day before month, 24-hour times."""

from authority.l10n.formats.common import *  # noqa: F403 (Django reads the module's names)

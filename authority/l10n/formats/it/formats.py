"""Italian dates as the authority writes them: "3 dicembre 2026, 08:14", "03/12/2026 08:14"."""

# Django's own Italian formats zero-pad the day of long dates ("03 Dicembre 2026") and put the
# weekday in front of every date and time; we write the day as a number and no weekday. Month
# and weekday names are lowercase through authority/l10n/locale (Django's catalogue capitalises
# them, which Italian does not).
DATE_FORMAT = "j F Y"  # 3 dicembre 2026
TIME_FORMAT = "H:i"  # 08:14
DATETIME_FORMAT = "j F Y, H:i"  # 3 dicembre 2026, 08:14
YEAR_MONTH_FORMAT = "F Y"  # dicembre 2026
MONTH_DAY_FORMAT = "j F"  # 3 dicembre
SHORT_DATE_FORMAT = "d/m/Y"  # 03/12/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 03/12/2026 08:14
FIRST_DAY_OF_WEEK = 1  # lunedì

# ISO first: a widget renders its value with the first format, and a browser's date field
# accepts nothing else (Django's Italian formats put 05/09/2026 there, which it refuses).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M",  # what a browser's datetime-local field sends
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]

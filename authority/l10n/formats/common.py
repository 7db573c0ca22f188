"""The dates and times both languages write (docs/dates-and-times.md): the same patterns, each
language's month and weekday names coming from its catalogue."""

# The long form names the month, so that nobody reads 03/12 as 12 March; the short form is for
# tables, day first as everywhere in Europe. Times are 24-hour, in the authority's time zone.
DATE_FORMAT = "j F Y"  # 3 December 2026 / 3 dicembre 2026
TIME_FORMAT = "H:i"  # 08:14
DATETIME_FORMAT = "j F Y, H:i"  # 3 December 2026, 08:14
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 3 December
SHORT_DATE_FORMAT = "d/m/Y"  # 03/12/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 03/12/2026 08:14
FIRST_DAY_OF_WEEK = 1  # Monday

# ISO first: a widget renders its value with the first format, and a browser's date field
# accepts nothing else. Day-first forms are read too, never month-first ones.
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

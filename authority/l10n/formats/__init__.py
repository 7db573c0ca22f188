"""Django format modules (FORMAT_MODULE_PATH): one convention per language, see docs/dates-and-times.md."""

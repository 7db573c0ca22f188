"""How dates and times read on every page, e-mail and download, in English and Italian."""

"""Spelling alphabets for reading a code aloud over the phone, in Italian and English."""

from __future__ import annotations

# The Italian telephone alphabet (city names; foreign words for J K W X Y) and Italian digits.
ITALIAN: dict[str, str] = {
    "A": "Ancona", "B": "Bologna", "C": "Como", "D": "Domodossola", "E": "Empoli",
    "F": "Firenze", "G": "Genova", "H": "Hotel", "I": "Imola", "J": "Jolly",
    "K": "Kappa", "L": "Livorno", "M": "Milano", "N": "Napoli", "O": "Otranto",
    "P": "Palermo", "Q": "Quarto", "R": "Roma", "S": "Savona", "T": "Torino",
    "U": "Udine", "V": "Venezia", "W": "Washington", "X": "Xeres", "Y": "Yacht",
    "Z": "Zara",
    "0": "zero", "1": "uno", "2": "due", "3": "tre", "4": "quattro", "5": "cinque",
    "6": "sei", "7": "sette", "8": "otto", "9": "nove",
}  # fmt: skip

# The NATO/ICAO alphabet, with its own spellings "Alfa" and "Juliett".
ENGLISH: dict[str, str] = {
    "A": "Alfa", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo",
    "F": "Foxtrot", "G": "Golf", "H": "Hotel", "I": "India", "J": "Juliett",
    "K": "Kilo", "L": "Lima", "M": "Mike", "N": "November", "O": "Oscar",
    "P": "Papa", "Q": "Quebec", "R": "Romeo", "S": "Sierra", "T": "Tango",
    "U": "Uniform", "V": "Victor", "W": "Whiskey", "X": "X-ray", "Y": "Yankee",
    "Z": "Zulu",
    "0": "Zero", "1": "One", "2": "Two", "3": "Three", "4": "Four", "5": "Five",
    "6": "Six", "7": "Seven", "8": "Eight", "9": "Nine",
}  # fmt: skip


def spelling_alphabet(language: str) -> dict[str, str]:
    """The table for a language code: anything starting with "it" is Italian, else English."""
    return ITALIAN if language.lower().startswith("it") else ENGLISH


def spell(code: str, language: str) -> list[tuple[str, str]]:
    """Return (character, word) pairs for each letter or digit of `code`."""
    table = spelling_alphabet(language)
    pairs = []
    for char in code.upper():
        try:
            pairs.append((char, table[char]))
        except KeyError:
            raise ValueError(f"No spelling for character {char!r}.") from None
    return pairs

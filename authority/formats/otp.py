"""The Immuni one-time code: alphabet, check character, generation, parsing and hashing."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from typing import Literal

# The order matters: the check character is ALPHABET[sum mod 25].
ALPHABET = "AEFHIJKLQRSUWXYZ123456789"

OTP_LENGTH = 10
PAYLOAD_LENGTH = OTP_LENGTH - 1

# Weights of a character in an odd (1st, 3rd, ... 9th) or even position. They come from the
# Italian tax-code check digit, so some characters share a weight modulo 25 (for example
# "4" and "E" in an odd position): swapping one for the other is not detected.
ODD: dict[str, int] = {
    "1": 0, "2": 5, "3": 7, "4": 9, "5": 13, "6": 15, "7": 17, "8": 19, "9": 21,
    "A": 1, "E": 9, "F": 13, "H": 17, "I": 19, "J": 21, "K": 2, "L": 4, "Q": 6,
    "R": 8, "S": 12, "U": 16, "W": 22, "X": 25, "Y": 24, "Z": 23,
}  # fmt: skip
EVEN: dict[str, int] = {
    "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9,
    "A": 0, "E": 4, "F": 5, "H": 7, "I": 8, "J": 9, "K": 10, "L": 11, "Q": 16,
    "R": 17, "S": 18, "U": 20, "W": 22, "X": 23, "Y": 24, "Z": 25,
}  # fmt: skip

# Whitespace and the punctuation people put between groups when reading or pasting a code.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._·/,:]+")

ErrorReason = Literal["length", "character", "check"]


class OtpFormatError(ValueError):
    """A string that is not a well-formed OTP; `reason` says why, the message says how."""

    def __init__(self, reason: ErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason: ErrorReason = reason
        self.message = message


def check_character(first_nine: str) -> str:
    """Return the check character for the first nine characters of a code."""
    if len(first_nine) != PAYLOAD_LENGTH:
        raise OtpFormatError(
            "length", f"Expected {PAYLOAD_LENGTH} characters, got {len(first_nine)}."
        )
    total = 0
    for position, char in enumerate(first_nine, start=1):
        table = ODD if position % 2 == 1 else EVEN
        try:
            total += table[char]
        except KeyError:
            raise _bad_character(char, position) from None
    return ALPHABET[total % len(ALPHABET)]


def generate_otp() -> str:
    """Return a new random code: nine random characters and their check character."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return payload + check_character(payload)


# Only ASCII letters are upper-cased: str.upper() turns the dotless i (U+0131) into "I" and
# the sharp s into "SS", so a code typed with look-alikes could pass as another one.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def normalize_otp(raw: str) -> str:
    """Uppercase and drop separators; look-alike characters (O, 0, B, full-width digits,
    Cyrillic letters...) are kept as typed, so that validation names them."""
    return _SEPARATORS.sub("", raw).translate(_ASCII_UPPER)


def validate_otp(code: str) -> None:
    """Raise OtpFormatError unless `code` is an already normalized, valid code."""
    if len(code) != OTP_LENGTH:
        raise OtpFormatError(
            "length", f"The code must be {OTP_LENGTH} characters long, this one has {len(code)}."
        )
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            raise _bad_character(char, position)
    if check_character(code[:PAYLOAD_LENGTH]) != code[-1]:
        raise OtpFormatError(
            "check", "The code is not valid: it was probably mistyped, please check it."
        )


def is_valid_otp(code: object) -> bool:
    """True for a normalized, valid code (no separators, uppercase)."""
    if not isinstance(code, str):
        return False
    try:
        validate_otp(code)
    except OtpFormatError:
        return False
    return True


def parse_otp(raw: str) -> str:
    """Normalize what a person typed and return the code, or raise OtpFormatError."""
    code = normalize_otp(raw)
    validate_otp(code)
    return code


def otp_sha256_hex(code: str) -> str:
    """The hex SHA-256 of the code, as the app sends it in `Authorization: Bearer`."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def group_for_reading(code: str) -> list[str]:
    """Split a code in groups of 3-3-4 characters, easier to read aloud."""
    return [code[:3], code[3:6], code[6:]]


def _bad_character(char: str, position: int) -> OtpFormatError:
    return OtpFormatError(
        "character",
        f"Character {char!r} at position {position} is not used in codes;"
        f" allowed: {' '.join(ALPHABET)}.",
    )

import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority.formats.otp import (
    ALPHABET,
    EVEN,
    ODD,
    OtpFormatError,
    check_character,
    generate_otp,
    group_for_reading,
    is_valid_otp,
    normalize_otp,
    otp_sha256_hex,
    parse_otp,
)

PUBLISHED_EXAMPLES = ["KJ23IWY5UJ", "59FU36KR46", "9K2RAY8UUQ"]

# Pairs of characters with the same weight modulo 25: a substitution between them in a
# position of that parity leaves the check character unchanged. This is a property of the
# published tables (taken from the Italian tax code), not a bug of this implementation.
UNDETECTED_IN_ODD_POSITIONS = {
    frozenset(pair) for pair in ["1X", "4E", "5F", "7H", "8I", "9J"]
}  # fmt: skip
UNDETECTED_IN_EVEN_POSITIONS = {
    frozenset(pair) for pair in ["AZ", "4E", "5F", "7H", "8I", "9J"]
}  # fmt: skip

alphabet_chars = st.sampled_from(ALPHABET)
payloads = st.text(alphabet=ALPHABET, min_size=9, max_size=9)
valid_codes = payloads.map(lambda payload: payload + check_character(payload))


def test_alphabet_is_the_published_one_in_order():
    assert ALPHABET == "AEFHIJKLQRSUWXYZ123456789"
    assert len(set(ALPHABET)) == 25


def test_tables_cover_exactly_the_alphabet():
    assert set(ODD) == set(ALPHABET)
    assert set(EVEN) == set(ALPHABET)


@pytest.mark.parametrize("code", PUBLISHED_EXAMPLES)
def test_it_accepts_the_published_examples(code):
    assert is_valid_otp(code)
    assert check_character(code[:9]) == code[9]
    assert parse_otp(code) == code


def test_it_hashes_like_the_app():
    assert (
        otp_sha256_hex("KJ23IWY5UJ")
        == "4ec50b1f75ef4ad97521f5b3610cee605595266b7e2c42e6ce72eadff067c108"
    )


@given(valid_codes)
def test_hash_is_sha256_of_the_ascii_code(code):
    assert otp_sha256_hex(code) == hashlib.sha256(code.encode()).hexdigest()


def test_it_groups_three_three_four():
    assert group_for_reading("KJ23IWY5UJ") == ["KJ2", "3IW", "Y5UJ"]
    assert " ".join(group_for_reading("KJ23IWY5UJ")) == "KJ2 3IW Y5UJ"


def test_generated_codes_differ():
    assert len({generate_otp() for _ in range(50)}) == 50


@given(st.integers(min_value=0, max_value=200))
def test_every_generated_code_is_valid(_):
    code = generate_otp()
    assert len(code) == 10
    assert set(code) <= set(ALPHABET)
    assert is_valid_otp(code)


@given(valid_codes, st.integers(min_value=0, max_value=9), alphabet_chars)
def test_a_single_substitution_is_caught_unless_the_weights_collide(code, index, new_char):
    """Changing one character invalidates the code, except for known colliding pairs.

    The naive property ("any single substitution is caught") does not hold for these
    tables: see UNDETECTED_IN_*_POSITIONS. The check character itself is always caught.
    """
    old_char = code[index]
    if new_char == old_char:
        return
    changed = code[:index] + new_char + code[index + 1 :]
    position = index + 1
    if position == 10:
        expected_valid = False
    elif position % 2 == 1:
        expected_valid = frozenset((old_char, new_char)) in UNDETECTED_IN_ODD_POSITIONS
    else:
        expected_valid = frozenset((old_char, new_char)) in UNDETECTED_IN_EVEN_POSITIONS
    assert is_valid_otp(changed) is expected_valid


def test_colliding_pairs_are_exactly_those_with_equal_weights():
    def collisions(table):
        return {
            frozenset((a, b))
            for a in ALPHABET
            for b in ALPHABET
            if a != b and table[a] % 25 == table[b] % 25
        }

    assert collisions(ODD) == UNDETECTED_IN_ODD_POSITIONS
    assert collisions(EVEN) == UNDETECTED_IN_EVEN_POSITIONS


def test_a_known_collision_really_goes_undetected():
    # KJ23IWY5UJ: "I" in position 5 (odd) swapped for "8" keeps the same check character.
    assert is_valid_otp("KJ238WY5UJ")


@pytest.mark.parametrize(
    "raw",
    [
        "kj23iwy5uj",
        "KJ2 3IW Y5UJ",
        "KJ2-3IW-Y5UJ",
        "kj2.3iw.y5uj",
        "KJ2_3IW_Y5UJ",
        "  KJ23IWY5UJ\n",
        "\tkj2 - 3iw - y5uj ",
        "KJ2\u20133IW\u2013Y5UJ",
    ],
)
def test_it_accepts_lowercase_and_separators(raw):
    assert normalize_otp(raw) == "KJ23IWY5UJ"
    assert parse_otp(raw) == "KJ23IWY5UJ"


def test_normalize_does_not_map_look_alikes():
    assert normalize_otp("0o8b") == "0O8B"


@given(st.text())
def test_normalize_is_idempotent(raw):
    once = normalize_otp(raw)
    assert normalize_otp(once) == once


@given(valid_codes, st.lists(st.sampled_from([" ", "-", ".", "_"]), max_size=5), st.data())
def test_parse_recovers_a_code_with_separators_inserted(code, separators, data):
    chars = list(code.lower())
    for separator in separators:
        chars.insert(data.draw(st.integers(min_value=0, max_value=len(chars))), separator)
    assert parse_otp("".join(chars)) == code


@pytest.mark.parametrize("raw", ["", "KJ23IWY5U", "KJ23IWY5UJA", "KJ2 3IW"])
def test_it_rejects_wrong_length(raw):
    with pytest.raises(OtpFormatError) as excinfo:
        parse_otp(raw)
    assert excinfo.value.reason == "length"
    assert "10 characters" in str(excinfo.value)


@pytest.mark.parametrize(
    ("raw", "char", "position"),
    [("KJ23OWY5UJ", "O", 5), ("0J23IWY5UJ", "0", 1), ("KJ23IWY5UB", "B", 10)],
)
def test_it_rejects_characters_outside_the_alphabet(raw, char, position):
    with pytest.raises(OtpFormatError) as excinfo:
        parse_otp(raw)
    assert excinfo.value.reason == "character"
    assert f"'{char}' at position {position}" in str(excinfo.value)


def test_it_rejects_a_wrong_check_character_as_a_likely_typo():
    with pytest.raises(OtpFormatError) as excinfo:
        parse_otp("KJ23IWY5UA")
    assert excinfo.value.reason == "check"
    assert "mistyped" in str(excinfo.value)


@pytest.mark.parametrize("value", [None, 1234567890, b"KJ23IWY5UJ", "kj23iwy5uj", "KJ2 3IW Y5UJ"])
def test_is_valid_otp_is_false_for_anything_but_a_normalized_code(value):
    assert is_valid_otp(value) is False


@given(st.text(alphabet=string.printable, max_size=15))
def test_parse_either_returns_a_valid_code_or_raises_a_typed_error(raw):
    try:
        code = parse_otp(raw)
    except OtpFormatError as error:
        assert error.reason in {"length", "character", "check"}
        assert str(error)
    else:
        assert is_valid_otp(code)


def test_check_character_rejects_a_payload_of_the_wrong_length():
    with pytest.raises(OtpFormatError) as excinfo:
        check_character("KJ23")
    assert excinfo.value.reason == "length"


@given(st.text())
def test_normalize_turns_no_look_alike_into_a_code_character(raw):
    """Only ASCII letters change case: no other character (dotless i, long s, full-width or
    Cyrillic letters) becomes one of the alphabet, so validation names it instead."""
    kept = [char for char in normalize_otp(raw) if char in ALPHABET]
    assert kept == [char.upper() for char in raw if char.isascii() and char.upper() in ALPHABET]


@pytest.mark.parametrize("raw", ["KJ23ıWY5UJ", "KJ23IWY5Uſ", "ＫＪ２３ＩＷＹ５ＵＪ"])
def test_it_rejects_unicode_look_alikes_as_characters_codes_never_use(raw):
    with pytest.raises(OtpFormatError) as excinfo:
        parse_otp(raw)
    assert excinfo.value.reason == "character"

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority.formats.otp import ALPHABET, generate_otp
from authority.formats.phonetic import ENGLISH, ITALIAN, spell


def test_it_spells_a_code_in_italian():
    assert spell("KJ23IWY5UJ", "it") == [
        ("K", "Kappa"),
        ("J", "Jolly"),
        ("2", "due"),
        ("3", "tre"),
        ("I", "Imola"),
        ("W", "Washington"),
        ("Y", "Yacht"),
        ("5", "cinque"),
        ("U", "Udine"),
        ("J", "Jolly"),
    ]


def test_it_spells_a_code_in_english():
    assert spell("9K2RAY8UUQ", "en") == [
        ("9", "Nine"),
        ("K", "Kilo"),
        ("2", "Two"),
        ("R", "Romeo"),
        ("A", "Alfa"),
        ("Y", "Yankee"),
        ("8", "Eight"),
        ("U", "Uniform"),
        ("U", "Uniform"),
        ("Q", "Quebec"),
    ]


@pytest.mark.parametrize("language", ["it", "it-IT", "it_CH", "IT"])
def test_any_italian_language_code_gets_the_italian_alphabet(language):
    assert spell("AX", language) == [("A", "Ancona"), ("X", "Xeres")]


@pytest.mark.parametrize("language", ["en", "en-GB", "de", ""])
def test_other_languages_get_the_nato_alphabet(language):
    assert spell("AX", language) == [("A", "Alfa"), ("X", "X-ray")]


@pytest.mark.parametrize("table", [ITALIAN, ENGLISH])
def test_every_otp_character_has_a_distinct_word(table):
    words = [table[char] for char in ALPHABET]
    assert len(set(words)) == len(ALPHABET)


def test_it_spells_lowercase_input():
    assert spell("ef", "it") == [("E", "Empoli"), ("F", "Firenze")]


def test_it_refuses_characters_it_cannot_spell():
    with pytest.raises(ValueError, match="'-'"):
        spell("KJ2-3IW", "en")


@given(st.builds(generate_otp))
def test_every_generated_code_can_be_spelled(code):
    for language in ("it", "en"):
        assert "".join(char for char, _ in spell(code, language)) == code

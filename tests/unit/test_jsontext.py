"""Lone UTF-16 surrogates in parsed JSON (`stiva.jsontext`)."""

from __future__ import annotations

import json

import pytest

from stiva.jsontext import has_lone_surrogate


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        ('{"a": "plain"}', False),
        ('{"a": "caf\\u00e9 \\ud83d\\ude00"}', False),  # a valid pair is one character
        ('{"a": "\\ud800"}', True),
        ('{"a": "x\\udfffy"}', True),
        ('{"\\ud83d": 1}', True),  # keys too
        ('{"a": [1, {"b": ["\\ude00"]}]}', True),
        ('["\\ud83d\\ude00", 2.5, null, true]', False),
    ],
)
def test_lone_surrogates_are_found_anywhere(text: str, lone: bool) -> None:
    assert has_lone_surrogate(json.loads(text)) is lone

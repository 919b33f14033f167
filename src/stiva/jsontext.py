"""JSON that Stiva can keep as text.

JSON's `\\u` escapes can name half of a UTF-16 surrogate pair ("\\ud800" alone). Python's
`json` accepts such a lone surrogate, but no UTF-8 text can hold it: storing or answering it
fails later, far from the input. Inputs are checked where they are parsed instead, so the
caller gets the error of its protocol (a valid pair, "\\ud83d\\ude00", parses to one character
and is fine).
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = "a \\u escape naming half of a UTF-16 surrogate pair (U+D800 to U+DFFF alone)"


def has_lone_surrogate(value: object) -> bool:
    """Whether a string in `value` (a parsed JSON document, keys included) holds one."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False

"""Which images a rule's tag selection picks (ECR's "tagging requirements" of a rule).

    untagged   images without tags
    any        every image
    tagged     images with at least one tag for which every entry of the rule's list matches
               at least one of the image's tags (AND over entries, OR over tags):
               tagPrefixList entry  the tag starts with it
               tagPatternList entry the whole tag matches it, '*' standing for any run of
                                    characters, possibly empty; every other character is
                                    literal ("prod*" matches prod, prod1, production-team1)

So ``["latest", "main"]`` as one pattern list picks only images tagged with both; protecting
each of them takes one rule per tag.

Patterns are matched segment by segment with `str.find`, never with a backtracking regular
expression: a hostile pattern such as "*a*a*a*a" costs linear time per tag.
"""

from __future__ import annotations

from collections.abc import Sequence

from stiva.lifecycle.policy import Selection


def selection_matches(selection: Selection, tags: Sequence[str]) -> bool:
    """Whether an image with `tags` meets the tagging requirements of `selection`."""
    if selection.tag_status == "any":
        return True
    if selection.tag_status == "untagged":
        return not tags
    if not tags:
        return False
    if selection.tag_prefixes:
        return all(any(tag.startswith(p) for tag in tags) for p in selection.tag_prefixes)
    return all(any(pattern_matches(p, tag) for tag in tags) for p in selection.tag_patterns)


def pattern_matches(pattern: str, tag: str) -> bool:
    """Whether the whole of `tag` matches `pattern`, where '*' matches any run of characters."""
    first, *middle_and_last = pattern.split("*")
    if not middle_and_last:
        return tag == pattern
    *middle, last = middle_and_last
    if len(tag) < len(first) + len(last) or not tag.startswith(first) or not tag.endswith(last):
        return False
    position, end = len(first), len(tag) - len(last)
    for segment in middle:
        found = tag.find(segment, position, end)
        if found < 0:
            return False
        position = found + len(segment)
    return True

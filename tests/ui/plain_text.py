"""Checking that a name reached Streamlit's Markdown as plain text.

AppTest shows the Markdown source an element carries, not its rendering, so a name is shown
literally when, in that source, every character Markdown (and Streamlit's extensions:
``:color[...]``, ``:emoji:``, ``$math$``) could act on is backslash-escaped, and removing the
escapes gives the name back. This reads the source as CommonMark does (a backslash before
ASCII punctuation is a literal character), independently of ``app.widgets.plain``.
"""

from __future__ import annotations

import string

MARKDOWN_NAME = "**bold** [x](http://evil)"
# worked out by hand: each of * [ ] ( ) : escaped ("/" has no Markdown meaning), and an
# invisible word joiner after "http:" so that no bare link is made of it
MARKDOWN_NAME_ESCAPED = "\\*\\*bold\\*\\* \\[x\\]\\(http\\:\u2060//evil\\)"
ACTIVE = set("*_[]()`<>#!|~:$&")  # characters that start emphasis, links, code, HTML, ...
WORD_JOINER = "\u2060"  # invisible: shown as nothing


def unescape(source: str) -> tuple[str, list[str]]:
    """The literal text of ``source`` and the active characters left unescaped in it."""
    text, loose, i = [], [], 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in string.punctuation:
            text.append(source[i + 1])
            i += 2
            continue
        if char in ACTIVE:
            loose.append(char)
        text.append(char)
        i += 1
    return "".join(text), loose


def assert_literal(source: str, text: str) -> None:
    """``source`` (an element's Markdown) shows exactly ``text``, nothing interpreted."""
    literal, loose = unescape(source)
    assert literal.replace(WORD_JOINER, "") == text.replace(WORD_JOINER, ""), (literal, text)
    assert not loose, f"unescaped Markdown characters {loose} in {source!r}"


def text(element) -> str:
    """What a Markdown element (error, success, caption, ...) shows: its source unescaped."""
    return unescape(element.value)[0].replace(WORD_JOINER, "")

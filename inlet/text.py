"""Other people's text (names, labels, messages the API sent) made safe to show on a terminal."""

from __future__ import annotations

import unicodedata

# What `inlet` never writes raw, whoever wrote the text (the API, an old row, a key dropped into
# the bucket): controls (C0, DEL, C1: ESC starts terminal sequences, BEL rings), bidirectional
# embeddings, overrides, isolates and marks (they reorder a line on terminals that do bidi),
# line and paragraph separators, lone surrogates. Each is written as a visible escape.
BIDI_CHARACTERS = frozenset(
    map(chr, [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
)
UNSAFE_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` safe to print: every unsafe character as `\\x1b` or `\\u202e`; the rest (any
    script, emoji and their joiners, combining marks) as it is."""
    return "".join(
        _escape(ch)
        if ch in BIDI_CHARACTERS or unicodedata.category(ch) in UNSAFE_CATEGORIES
        else ch
        for ch in str(text)
    )

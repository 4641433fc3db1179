"""Characters no URL given to the API may hold: control characters (C0, DEL, C1), spaces of any
kind, line and paragraph separators, and invisible format characters (bidi overrides, zero
width spaces).

Parsers disagree about them: Python's urlsplit silently drops CR, LF and tab, a browser trims
spaces, an HTTP library may send a raw CR LF on into a header. A URL stored with them means
one thing when checked and another when used (a second header in a redirect, a host that is
not the one checked), so they are refused, never cleaned. A URL that needs them encodes them
(%20, %0A).
"""

from __future__ import annotations

import unicodedata

# Cc: C0, DEL and C1 controls; Cf: format characters; Zs, Zl, Zp: every space and separator.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})

DESCRIPTION = "must not contain spaces or control characters (percent-encode them)"


def has_forbidden_characters(url: str) -> bool:
    return any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in url)

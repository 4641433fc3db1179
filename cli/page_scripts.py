"""The CSP sources that allow exactly the inline scripts of a static HTML page.

A page whose scripts are inlined (the API reference: Redoc's script and the document in one
file) can only run under a CSP that names them. Their hashes, rather than 'unsafe-inline',
keep that CSP from allowing any other script: one injected into the page would not run.
"""

from __future__ import annotations

import base64
import hashlib
import re

# A script element's text runs to the first `</script` (any case), as in an HTML parser;
# bundlers write `<\/script>` inside strings to keep it so.
_SCRIPT = re.compile(r"<script(\s[^>]*)?>(.*?)</script", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(r"\bsrc\s*=", re.IGNORECASE)


class ExternalScript(ValueError):
    """The page loads a script from a URL: the hashes would not cover it."""


def inline_script_hashes(html: str) -> list[str]:
    """`'sha256-…'` for each inline script of `html`, in page order, duplicates removed."""
    hashes: list[str] = []
    for match in _SCRIPT.finditer(html):
        attributes, text = match.group(1) or "", match.group(2)
        if _SRC.search(attributes):
            raise ExternalScript("the page loads a script by URL; only inline scripts may run")
        digest = hashlib.sha256(text.encode()).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        if source not in hashes:
            hashes.append(source)
    return hashes

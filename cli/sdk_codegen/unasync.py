"""The SDK's async resources, written from its sync ones: one hand-written surface, two clients.

The sync source follows two conventions that make this a plain text transformation:
- a method that talks to the API does it through `self._call(` or `self._page(`; such a method
  becomes `async def` and awaits them;
- the names that differ are the module's own classes (`Orders` -> `AsyncOrders`) and the few in
  ASYNC_NAMES; they are replaced as whole words, never as attributes (`models.Health` stays).
"""

from __future__ import annotations

import re

ASYNC_NAMES = {
    "Resource": "AsyncResource",
    "Requester": "AsyncRequester",
    "Page": "AsyncPage",
    "Iterator": "AsyncIterator",
}
_AWAITED = ("self._call(", "self._page(")
_CLASS = re.compile(r"^class (\w+)\b", re.MULTILINE)
_METHOD = re.compile(r"^    def \w+\(")
_DOCSTRING = re.compile(r'\A""".*?"""\n', re.DOTALL)


def to_async(source: str, origin: str) -> str:
    names = dict(ASYNC_NAMES)
    names.update({name: "Async" + name for name in _CLASS.findall(source)})
    renamed = re.sub(
        r"(?<![.\w])(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b",
        lambda match: names[match.group(1)],
        _DOCSTRING.sub("", source, count=1),
    )
    banner = (
        f'"""The async resources of AsyncPayLoops. GENERATED from {origin} by\n'
        '`python -m cli.sdk_codegen` (`make gen`): do not edit."""\n'
    )
    return banner + "\n".join(_await_calls(renamed.split("\n")))


def _await_calls(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        if not _METHOD.match(lines[index]):
            out.append(lines[index])
            index += 1
            continue
        end = index + 1
        while end < len(lines) and _inside_method(lines[end]):
            end += 1
        block = lines[index:end]
        if any(awaited in line for line in block for awaited in _AWAITED):
            block[0] = block[0].replace("    def ", "    async def ", 1)
            for awaited in _AWAITED:
                block = [line.replace(awaited, "await " + awaited) for line in block]
        out += block
        index = end
    return out


def _inside_method(line: str) -> bool:
    """Blank, indented deeper than the method, or the `) -> …:` closing its signature."""
    return not line.strip() or line.startswith("     ") or line.startswith("    )")

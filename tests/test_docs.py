"""The documentation stays whole: every relative link of the README and docs/ leads to a file of
the repository (and to a heading of it, when the link names one), the README stays a front door
a newcomer reads at once, and no file cites a document the repository does not contain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    REPO / "README.md",
    REPO / "sdk" / "README.md",
    REPO / "sdk" / "typescript" / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "examples").glob("*/README.md")),
]
README_MAX_LINES = 200

# Not the repository's own text: version control, the virtualenv, npm's installs, generated
# code, tool state (SvelteKit's .svelte-kit).
NOT_OURS = {
    ".git",
    ".venv",
    "node_modules",
    ".svelte-kit",
    "gen",
    ".payloops",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
}

# Documents the project was first described in, which a reader of the repository does not have:
# the design and style notes and the research notes beside them. What the project needs of them
# is in docs/ (design.md above all), and that is what code and docs cite.
OUTSIDE_DOCUMENT = re.compile(r"\b(?:DESIGN|STYLE)\.md\b|\bnotes[/\\]\w|\.\.[/\\]shared\b")

LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text: str) -> Iterator[str]:
    """The lines of a Markdown text outside fenced code blocks (a link in a shell example is
    not a link)."""
    fence = ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        yield line


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: link text kept, punctuation dropped, lower case,
    spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading.group(2))
        name, repeat = base, 0
        while name in found:  # GitHub numbers repeated headings: name, name-1, name-2
            repeat += 1
            name = f"{base}-{repeat}"
        found.add(name)
    return found


def links(page: Path) -> Iterator[str]:
    for line in prose_lines(page.read_text(encoding="utf-8")):
        # A link's text may hold code; code never holds a link.
        yield from LINK.findall(INLINE_CODE.sub("code", line))


def broken(page: Path, target: str) -> str | None:
    """Why `target`, linked from `page`, leads nowhere; None when it leads to what it names."""
    path_part, _, anchor = target.partition("#")
    destination = (page.parent / unquote(path_part)).resolve() if path_part else page
    if not destination.is_relative_to(REPO):
        return "outside the repository"
    if not destination.exists():
        return "no such file"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
        return f"no heading #{anchor} in {destination.relative_to(REPO)}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(REPO)) for page in PAGES])
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    problems = [
        f"{target}: {why}"
        for target in links(page)
        if not SCHEME.match(target) and (why := broken(page, target)) is not None
    ]
    assert problems == [], f"{page.relative_to(REPO)} has broken links"


def test_readme_is_a_front_door_a_newcomer_reads_at_once() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, "move sections of the README into docs/ pages"


def repository_files() -> Iterator[Path]:
    stack = [REPO]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                if entry.name not in NOT_OURS:
                    stack.append(entry)
            elif entry.is_file():
                yield entry


def test_no_file_cites_a_document_the_repository_does_not_contain() -> None:
    citations = []
    for path in repository_files():
        data = path.read_bytes()
        if b"\0" in data:  # binary
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if OUTSIDE_DOCUMENT.search(line):
                citations.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert citations == [], "cite the docs/ page that holds the fact, or state it"


# The checks above must be able to fail: each rule against a page that breaks it.


def test_a_missing_file_or_heading_is_found() -> None:
    page = REPO / "docs" / "design.md"
    assert broken(page, "no-such-page.md") == "no such file"
    assert broken(page, "api.md#no-such-heading") == "no heading #no-such-heading in docs/api.md"
    assert broken(page, "../../outside.md") == "outside the repository"
    assert broken(page, "api.md#idempotency") is None
    assert broken(page, "#the-money-rules") is None


def test_headings_get_githubs_anchors() -> None:
    assert slug("How long `:pay` waits") == "how-long-pay-waits"
    assert slug("2. An unknown outcome is never a failure") == (
        "2-an-unknown-outcome-is-never-a-failure"
    )
    assert slug("Checking a server: `payloops processor-check`") == (
        "checking-a-server-payloops-processor-check"
    )


def test_links_in_code_are_not_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "[a](a.md) `[b](b.md)`\n```sh\nfield '[\"id\"](x)'\n```\n[`c`](c.md#d)\n",
        encoding="utf-8",
    )
    assert list(links(page)) == ["a.md", "c.md#d"]


def test_citations_of_outside_documents_are_found() -> None:
    # Spelled in two parts, so that this file does not cite them itself.
    cited = [
        "DESIGN" + ".md §4",
        "(STYLE" + ".md)",
        "notes" + "/processors.md §5.2",
        ".." + "/shared",
    ]
    assert all(OUTSIDE_DOCUMENT.search(text) for text in cited)
    assert not OUTSIDE_DOCUMENT.search('{"notes": notes}  # Razorpay notes of a payment')

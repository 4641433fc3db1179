"""Where a profile's time goes, read back from a py-spy flame graph (SVG).

py-spy writes inferno's SVG: one <g> per frame, with its title ("function (file:line) (N
samples, P%)"), its depth as the rectangle's y, and its samples as fg:x (offset) and fg:w
(width). A frame's self samples are its width minus its children's (the frames one level
deeper within its span); a function's total is the width of its frames not nested in a frame
of the same function (recursion counted once). Inferno leaves out frames too narrow to draw
(under 0.1 % of the samples), so a self share can include a little of those.
"""

from __future__ import annotations

import bisect
import html
import re
from collections import defaultdict
from dataclasses import dataclass

_FRAME = re.compile(
    r'<g><title>(?P<title>[^<]*)</title><rect [^>]*?y="(?P<y>[\d.]+)"[^>]*?'
    r'fg:x="(?P<x>\d+)" fg:w="(?P<w>\d+)"'
)
_TOTAL = re.compile(r'total_samples="(\d+)"')
ROOT = "all"


@dataclass(frozen=True)
class Frame:
    name: str
    depth: int
    x: int
    width: int


@dataclass(frozen=True)
class Share:
    name: str
    self_share: float
    total_share: float


def read_frames(svg: str) -> tuple[int, list[Frame]]:
    """The profile's sample count and its frames, depth 0 being the root ("all")."""
    raw = [
        (html.unescape(m["title"]).rsplit(" (", 1)[0], float(m["y"]), int(m["x"]), int(m["w"]))
        for m in _FRAME.finditer(svg)
    ]
    if not raw or (total := _TOTAL.search(svg)) is None:
        raise ValueError("not a py-spy flame graph, or one without samples")
    root_y = next(y for name, y, _, _ in raw if name == ROOT)
    levels = sorted({y for _, y, _, _ in raw}, reverse=root_y == max(y for _, y, _, _ in raw))
    depth_of = {y: depth for depth, y in enumerate(levels)}
    return int(total.group(1)), [Frame(name, depth_of[y], x, w) for name, y, x, w in raw]


def shares(svg: str) -> list[Share]:
    """Every function's self and total share of the samples, largest self share first."""
    total, frames = read_frames(svg)
    by_depth: dict[int, list[Frame]] = defaultdict(list)
    for frame in frames:
        by_depth[frame.depth].append(frame)
    for level in by_depth.values():
        level.sort(key=lambda frame: frame.x)
    starts = {depth: [frame.x for frame in level] for depth, level in by_depth.items()}

    def parent(frame: Frame) -> Frame | None:
        level = by_depth.get(frame.depth - 1, [])
        index = bisect.bisect_right(starts.get(frame.depth - 1, []), frame.x) - 1
        return level[index] if index >= 0 else None

    self_samples: dict[str, int] = defaultdict(int)
    total_samples: dict[str, int] = defaultdict(int)
    parents = {id(frame): parent(frame) for frame in frames}
    for frame in frames:
        self_samples[frame.name] += frame.width
        if (up := parents[id(frame)]) is not None:
            self_samples[up.name] -= frame.width
        if not _nested_in_itself(frame, parents):
            total_samples[frame.name] += frame.width
    found = [
        Share(name, self_samples[name] / total, total_samples[name] / total)
        for name in total_samples
        if name != ROOT
    ]
    return sorted(found, key=lambda share: (-share.self_share, -share.total_share))


def _nested_in_itself(frame: Frame, parents: dict[int, Frame | None]) -> bool:
    up = parents[id(frame)]
    while up is not None:
        if up.name == frame.name:
            return True
        up = parents[id(up)]
    return False


def source_of(name: str) -> str:
    """The file a frame's function is in: "f (edge/server.py:12)" -> "edge/server.py"."""
    return name.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0]


def package_of(name: str) -> str:
    """The top-level package (or module) of a frame's file: edge, sqlalchemy, asyncio, ..."""
    first = source_of(name).split("/", 1)[0]
    return first.removesuffix(".py")


def self_by_package(found: list[Share]) -> list[tuple[str, float]]:
    """The self shares summed by package, largest first: which code the time is spent in."""
    totals: dict[str, float] = defaultdict(float)
    for share in found:
        totals[package_of(share.name)] += share.self_share
    return sorted(totals.items(), key=lambda item: -item[1])

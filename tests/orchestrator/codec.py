"""The platform's Temporal data converter (core.payload_codec) with a key of the workflow
tests' own: what their Temporal client writes with, and what a replay of their histories
needs. In a module of its own, so that the conftest and the tests share one key."""

from __future__ import annotations

from core.payload_codec import data_converter, new_key

CONVERTER = data_converter([new_key()])

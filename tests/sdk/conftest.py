"""Fixtures of the SDK tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sdk.fake_api import FakeAPI


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    server = FakeAPI()
    try:
        yield server
    finally:
        server.close()

"""The unit suite's file fixtures, for the entry-point tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.unit.conftest import fresh_profiles, write_yaml  # noqa: F401  (fixtures)
from tests.unit.test_cli import PROFILES


@pytest.fixture
def profiles_file(write_yaml: Callable[..., str]) -> str:  # noqa: F811
    return write_yaml(PROFILES)

"""The entry-point suite: each test gets its own process-wide SingleuserProfiles."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_profiles(fresh_profiles: None) -> None:
    """Each test gets its own process-wide SingleuserProfiles."""

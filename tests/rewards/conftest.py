"""Reward tests share one small worker pool (two processes) and stop it when the run ends."""

from __future__ import annotations

import pytest

from r1jax.rewards import math as rmath


@pytest.fixture(scope="session", autouse=True)
def reward_workers():
  """Two workers keep the suite light on a 2-core machine; the same pool serves every test."""
  rmath.configure(num_workers=2)
  yield
  rmath.shutdown()

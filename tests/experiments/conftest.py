"""One quick SFT run per test session, shared by the tests that need a trained (if small) model."""

import pytest

from configs import sft_arithmetic
from experiments import sft


@pytest.fixture(scope="session")
def sft_quick_run(tmp_path_factory):
  """The `quick` SFT variant trained once: {"workdir", "first_eval", "last_eval", "params", "cfg", ...}."""
  workdir = tmp_path_factory.mktemp("sft_quick")
  return sft.train(sft_arithmetic.get_config("quick"), workdir)

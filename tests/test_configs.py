"""Every config file and variant builds, names things that exist, and says how to run it."""

import importlib
import pathlib

import pytest

from r1jax import rewards
from r1jax.data import tasks, templates
from r1jax.models import get_config as model_preset
from r1jax.train import OptimizerConfig

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs"
MODULES = sorted(p.stem for p in CONFIG_DIR.glob("*.py") if not p.stem.startswith("_"))


def variants(module):
  return getattr(module, "VARIANTS", ("default",))


def reward_sections(config):
  for key in ("rewards",):
    if key in config:
      yield config[key]
  yield config.eval.rewards
  if "distill" in config:
    yield config.distill.rewards


@pytest.mark.parametrize("name", MODULES)
def test_every_variant_builds_and_refers_to_real_things(name):
  module = importlib.import_module(f"configs.{name}")
  assert "python -m experiments." in module.__doc__.split("\n\n")[0] + module.__doc__  # says how to run it
  for variant in variants(module):
    c = module.get_config(variant)
    OptimizerConfig(**c.optimizer.to_dict())
    assert c.task.name in tasks.names()
    assert c.task.template in templates.TEMPLATES
    for section in reward_sections(c):
      for reward_name in section:
        rewards.get(reward_name)
    assert c.eval.correct_reward in c.eval.rewards
    model_preset(c.model.preset, **c.model.overrides.to_dict())
    if "grpo" in c:
      from experiments import grpo

      grpo.loss_config(c)
    c.lock()  # what --config does: an override of a key that does not exist is an error naming it
    with pytest.raises(AttributeError, match="no_such_key"):
      c.train.no_such_key = 1
  with pytest.raises(ValueError, match="variant"):
    module.get_config("no-such-variant")

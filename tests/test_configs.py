"""Every config file and variant becomes valid trainer settings, names things that exist, and says how to run it."""

import importlib
import pathlib
import re

import pytest

from r1jax import rewards
from r1jax.checks import SettingsError
from r1jax.data import preferences, tasks, templates
from r1jax.losses import grpo as grpo_losses
from r1jax.models import get_config as model_preset
from r1jax.trainers import settings

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[1] / "configs"
MODULES = sorted(p.stem for p in CONFIG_DIR.glob("*.py") if not p.stem.startswith("_"))
SETTINGS = {"sft": settings.SFTSettings, "grpo": settings.GRPOSettings, "distill": settings.DistillSettings,
            "evaluate": settings.EvaluateSettings, "reward_model": settings.RewardModelSettings}


def variants(module):
  return getattr(module, "VARIANTS", ("default",))


def settings_class(module, name):
  """The trainer a config feeds: the job of the docstring's command that names this file."""
  jobs = re.findall(rf"python -m experiments\.(\w+) --config configs/{name}\.py", module.__doc__)
  assert jobs, f"configs/{name}.py's docstring must start with the command that runs it"
  assert jobs[0] in SETTINGS, jobs[0]
  return SETTINGS[jobs[0]]


def sections(module, name, config):
  """(settings class, config section) pairs: the whole config of a one-trainer file, or each stage of a pipeline
  file (one with STAGE_TRAINERS: stage section -> the experiment that trains it)."""
  if hasattr(module, "STAGE_TRAINERS"):
    return [(SETTINGS[job], config[stage]) for stage, job in module.STAGE_TRAINERS.items()]
  return [(settings_class(module, name), config)]


@pytest.mark.parametrize("name", MODULES)
def test_every_variant_parses_and_refers_to_real_things(name):
  module = importlib.import_module(f"configs.{name}")
  for variant in variants(module):
    for cls, section in sections(module, name, module.get_config(variant)):
      _check(cls, settings.parse(cls, section))
  with pytest.raises(ValueError, match="variant"):
    module.get_config("no-such-variant")


def _check(cls, s):
  """The names a parsed settings object refers to exist."""
  if not s.model.init_from:
    model_preset(s.model.preset, **s.model.overrides)
  if cls is settings.RewardModelSettings:  # preference pairs, not a task
    assert s.data.source in preferences.SYNTHETIC and s.data.template in templates.TEMPLATES
    return
  for task in [s.task] + list(getattr(s, "mixture", {}).values()):
    assert task.name in tasks.names()
    assert task.template in templates.TEMPLATES
    assert set(task.knobs) <= set(tasks.knobs(task.name))
  reward_sections = [s.eval.rewards] + [getattr(s, "rewards", {})] + [getattr(getattr(s, "distill", None),
                                                                            "rewards", {})]
  for section in reward_sections:
    for reward_name in rewards.names_in(section):
      if reward_name != "reward_model":  # a model the run loads (config.reward_model), not a registered function
        rewards.get(reward_name)
  if cls is settings.GRPOSettings:
    assert s.grpo.loss_type in grpo_losses.POLICY_LOSSES
    assert s.grpo.advantage_estimator in grpo_losses.ADVANTAGE_ESTIMATORS


@pytest.mark.parametrize("name", MODULES)
def test_a_key_set_in_python_that_no_trainer_reads_is_an_error(name):
  module = importlib.import_module(f"configs.{name}")
  for cls, c in sections(module, name, module.get_config(variants(module)[0])):
    c.eval.no_such_key = 1
    with pytest.raises(SettingsError, match=r"config\.eval\.no_such_key"):
      settings.parse(cls, c)


@pytest.mark.parametrize("name", ["grpo_countdown", "sft_countdown", "distill_countdown"])
def test_countdown_configs_score_countdown_not_math(name):
  """Countdown runs evaluate (and train) with the countdown reward only; a merged-in math reward is a bug."""
  module = importlib.import_module(f"configs.{name}")
  for variant in variants(module):
    s = settings.parse(settings_class(module, name), module.get_config(variant))
    assert "math_accuracy" not in s.eval.rewards and s.eval.correct_reward == "countdown"
    assert "math_accuracy" not in getattr(s, "rewards", {})

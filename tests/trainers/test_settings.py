"""Typed settings: strict parsing from ConfigDicts, errors that name the key, command-line overrides."""

import ml_collections
import pytest

from experiments import common as cli
from r1jax.checks import SettingsError
from r1jax.trainers import settings


def test_round_trip_of_the_defaults_and_strict_keys():
  for cls in (settings.SFTSettings, settings.GRPOSettings, settings.DistillSettings, settings.EvaluateSettings):
    assert settings.parse(cls, settings.to_config(cls())) == cls()
  c = settings.to_config(settings.GRPOSettings())
  c.grpo.dual_clip = 3.0  # a knob no trainer reads must not pass silently
  with pytest.raises(SettingsError, match=r"unknown key config\.grpo\.dual_clip; valid keys of config\.grpo: "):
    settings.parse(settings.GRPOSettings, c)


@pytest.mark.parametrize("key, value, message", [
    ("train.steps", -5, r"config\.train\.steps must be >= 1, got -5"),
    ("train.log_every", 0, r"config\.train\.log_every must be >= 1"),
    ("task.max_prompt_len", 0, r"config\.task\.max_prompt_len must be >= 1"),
    ("task.max_prompt_len", -1, r"config\.task\.max_prompt_len must be >= 1"),
    ("rollout.num_generations", 2.5, r"config\.rollout\.num_generations must be an integer"),
    ("optimizer.schedule", "exp", r"config\.optimizer\.schedule must be one of"),
    ("eval.ks", (1, 8), r"config\.eval\.ks must lie in \[1, num_samples=4\]"),
    ("eval.correct_reward", "countdown", r"config\.eval\.correct_reward 'countdown' must be one of eval\.rewards"),
    ("task.prompt_policy", "cut", r"config\.task\.prompt_policy must be one of"),
    ("grpo.mini_batches", 0, r"config\.grpo\.mini_batches must be >= 1"),
])
def test_bad_values_name_their_key(key, value, message):
  c = settings.to_dict(settings.GRPOSettings())
  section, leaf = key.split(".")
  c[section][leaf] = value
  with pytest.raises(SettingsError, match=message):
    settings.parse(settings.GRPOSettings, c)


def test_command_line_overrides_are_typed_and_open_sections_take_new_keys():
  overrides, rest = cli.split_overrides(["--config.train.steps=7", "--workdir", "w", "--config.task.name", "file",
                                        "--config.task.knobs.path=/data/qa.jsonl", "--config.train.export_hf=false",
                                        "--config.rewards.overlong.max_length=64", "--config.eval.ks=(1,2)"])
  assert rest == ["--workdir", "w"]
  c = cli.apply_overrides(settings.to_config(settings.GRPOSettings()), overrides,
                          settings.open_sections(settings.GRPOSettings))
  s = settings.parse(settings.GRPOSettings, c)
  assert s.train.steps == 7 and s.task.name == "file" and s.task.knobs == {"path": "/data/qa.jsonl"}
  assert s.train.export_hf is False and s.rewards["overlong"] == {"max_length": 64} and s.eval.ks == (1, 2)
  for bad, message in ((("train.stepz", "5"), r"unknown key config\.train\.stepz; valid keys of config\.train"),
                       (("grpo.beta", "x"), r"config\.grpo\.beta must be a number, got 'x'"),
                       (("train.export_hf", "maybe"), r"config\.train\.export_hf must be true or false"),
                       (("nosection.key", "1"), r"unknown key config\.nosection")):
    with pytest.raises(SettingsError, match=message):
      cli.apply_overrides(settings.to_config(settings.GRPOSettings()), [bad],
                          settings.open_sections(settings.GRPOSettings))


def test_describe_lists_every_knob_with_its_meaning():
  rows = {key: (default, doc) for key, default, doc in settings.describe(settings.GRPOSettings)}
  assert rows["config.grpo.epsilon_high"][0] == 0.2 and "clip" in rows["config.grpo.epsilon_high"][1].lower()
  assert all(doc for key, (_, doc) in rows.items() if not key.startswith(("config.model", "config.mesh."))), [
      k for k, (_, d) in rows.items() if not d]
  assert isinstance(settings.to_config(settings.GRPOSettings()), ml_collections.ConfigDict)


def test_reward_model_and_judge_settings():
  assert settings.parse(settings.RewardModelSettings, settings.to_config(settings.RewardModelSettings())) == (
      settings.RewardModelSettings())
  c = settings.to_dict(settings.DistillSettings())
  c["distill"]["judge"]["kind"] = "verifier"  # on, but naming no model
  with pytest.raises(SettingsError, match=r"config\.distill\.judge\.path must name the verifier checkpoint"):
    settings.parse(settings.DistillSettings, c)
  c["distill"]["judge"].update(path="/ckpt/judge", top_fraction=1.5)
  with pytest.raises(SettingsError, match=r"config\.distill\.judge\.top_fraction must be in \(0, 1\]"):
    settings.parse(settings.DistillSettings, c)
  c = settings.to_dict(settings.RewardModelSettings())
  c["data"]["length_policy"] = "cut"
  with pytest.raises(SettingsError, match=r"config\.data\.length_policy must be one of"):
    settings.parse(settings.RewardModelSettings, c)

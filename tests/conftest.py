"""Shared fixtures: tiny random Hugging Face checkpoints written with `transformers`, built once per session."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from r1jax.testing import make_hf_model  # noqa: E402


@pytest.fixture(scope="session")
def hf_checkpoints(tmp_path_factory):
  """{family: directory} of tiny HF checkpoints (config.json + model.safetensors) for qwen2, llama, qwen3."""
  paths = {}
  for family in ("qwen2", "llama", "qwen3"):
    path = tmp_path_factory.mktemp(f"hf_{family}")
    make_hf_model(family).save_pretrained(path)
    paths[family] = path
  return paths


@pytest.fixture(scope="session")
def sft_quick_run(tmp_path_factory):
  """The `quick` SFT variant trained once per session: {"workdir", "first_eval", "last_eval", "params", "cfg", ...}."""
  from configs import sft_arithmetic
  from experiments import sft

  workdir = tmp_path_factory.mktemp("sft_quick")
  return sft.train(sft_arithmetic.get_config("quick"), workdir)


@pytest.fixture(scope="session")
def rm_quick_run(tmp_path_factory):
  """The `quick` reward-model variant trained once per session (about a minute): its summary, "params", "cfg"."""
  from configs import reward_model as rm_config
  from experiments import reward_model

  workdir = tmp_path_factory.mktemp("rm_quick")
  return reward_model.train(rm_config.get_config("quick"), workdir)

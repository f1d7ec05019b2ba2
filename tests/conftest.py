"""Shared fixtures: tiny random Hugging Face checkpoints written with `transformers`, built once per session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The tests' programs are small and compiled once or twice each, so XLA's LLVM code generation at full optimization
# costs more than it saves (1.4-1.8x the time of model, sampler and trainer tests on 2 cores). This lowers only the
# backend's optimization level: the HLO passes (fusion, buffer assignment, hence the dry runs' memory figures) and
# the matmul kernels are the ones users run; elementwise math (exp, log) can round differently in the last bit, so
# float32 comparisons allow a few ulp. Set JAX_DISABLE_MOST_OPTIMIZATIONS=0 to test fully optimized code.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")


def _share_one_compilation_cache() -> None:
  """Every process of a test run reads and writes one persistent XLA compilation cache.

  Many tests build the same programs (the quick configs' train steps, the sampler at the tiny model's shapes) in
  fresh closures or in subprocesses, and XLA:CPU compiles are most of a tiny model's test time; through the cache
  each distinct program is compiled once per run. The controller makes the directory before JAX is imported and
  removes it at exit; xdist workers and the subprocesses tests start inherit it through the environment. A
  directory set by the caller is used as it is (and kept).
  """
  if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    return
  path = tempfile.mkdtemp(prefix="r1jax-tests-xla-cache-")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = path
  os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
  atexit.register(shutil.rmtree, path, ignore_errors=True)


_share_one_compilation_cache()

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


def pytest_configure(config):
  """Refuse `--dist loadgroup` where it would not keep an `xdist_group` together.

  pytest-xdist (3.8 and before) groups tests by a suffix it writes into their node ids on each worker; pytest 9.2
  made node ids immune to that write, so the marks do nothing, silently: the mesh and dry-run fixtures (minutes of
  subprocess runs each) are built on both workers at once, doubling the suite's time and overloading the
  multi-process tests' collectives. requirements/ci-constraints.txt (used by `make test`) pins a pytest that works.
  """
  if config.getoption("dist", "no") != "loadgroup" or hasattr(config, "workerinput"):
    return
  from importlib.metadata import version

  from packaging.version import Version

  if Version(pytest.__version__) >= Version("9.2") and Version(version("pytest-xdist")) <= Version("3.8.0"):
    raise pytest.UsageError(
        f"--dist loadgroup has no effect with pytest {pytest.__version__} and pytest-xdist "
        f"{version('pytest-xdist')}: tests marked xdist_group would be spread over the workers. Install the "
        "versions in requirements/ci-constraints.txt (`make test` does) or run without -n.")

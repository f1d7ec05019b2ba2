"""Model output is untrusted: nothing it writes may execute, raise, or stall scoring."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from r1jax import rewards
from r1jax.rewards import _pool, countdown, format, length
from r1jax.rewards import math as rmath


def _hostile_completions(marker) -> list[str]:
  inject = f"__import__('os').system('touch {marker}')"
  return [
      rf"\boxed{{{inject}}}",
      f"<answer>{inject}</answer>",
      f"<think>x</think><answer>{inject}</answer>",
      rf"The answer is $\boxed{{\text{{{inject}}}}}$",
      f"<answer>eval(\"{inject}\")</answer>",
      f"<answer>exec('{inject}')</answer>",
      rf"\boxed{{(lambda: {inject})()}}",
      r"\boxed{9^{9^{9^{9}}}}",
      "<answer>9**9**9**9</answer>",
      r"\boxed{9**9**9**9}",
      r"\boxed{2^{2^{2^{2^{2^{2}}}}}}",
      r"\boxed{10^{10^{10}}!}",
      r"\boxed{" + "{" * 20_000 + "1" + "}" * 20_000 + "}",
      "<answer>" + "(" * 20_000 + "1" + ")" * 20_000 + "</answer>",
      r"\boxed{" + "(" * 400 + "1" + ")" * 400 + "}",
      r"\boxed{" + "\\sqrt{" * 300 + "2" + "}" * 300 + "}",
      "a" * 1_000_000,
      r"\boxed{" * 100_000,
      "1" * 1_000_000,
      "<think>" * 100_000 + "</answer>" * 100_000,
      "x" * 500_000 + r"\boxed{" + "9" * 500_000 + "}",
      r"\frac{1}{", r"\sqrt[", r"\begin{pmatrix} 1 & 2", "}{", r"\left(", "$$$", "\\\\\\\\", r"\boxed{}",
      "", " ", "\x00\x01\x02", "\ud800", "🙂" * 1000,
      r"\boxed{1/0}", r"\boxed{0/0}", r"\boxed{\infty - \infty}", r"\boxed{\log 0}",
      "<answer>1/0</answer>", "<answer>(9-9)/(9-9)</answer>",
      # the constructs added for matrices, determinants, modulo and prose values, at their bounds
      r"\boxed{" + "+".join([r"\begin{pmatrix} x^{99} & 2 \\ 3 & 4 \end{pmatrix}"] * 60) + "}",
      r"\boxed{" + r"\begin{pmatrix} 9^{999} & 9 \\ 9 & 9 \end{pmatrix}" * 40 + "}",
      r"\boxed{\begin{vmatrix} x^{200} & y^{200} & z & w \\ a & b^{99} & c & d \\ e & f & g^{99} & h \\ i & j & k & l^{99} \end{vmatrix}}",
      r"\boxed{" + r" \bmod ".join(["9^{9999}"] * 60) + "}",
      r"\boxed{3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706}",
      "\u7b54\u6848" * 50_000 + "5",
      r"\lim_{x \to 0} " * 5_000 + "= 2",
      # sums and products, systems, indexed names, degrees and labelled boxes, at their bounds
      r"\boxed{\sum_{k=1}^{999} 10^{10^{k}}}", r"\boxed{\prod_{k=1}^{999} k^{9999}}", r"\boxed{\sum_{k=1}^{10^{9}} k}",
      r"\boxed{" + r"\sum_{k=1}^{999} " * 30 + "k}",
      r"\boxed{\begin{cases} " + r" \\ ".join([r"x^{200} + y_{n+1}^{200} = z"] * 25) + r" \end{cases}}",
      r"\boxed{" + r"\sin(" * 120 + "90^\\circ" + ")" * 120 + "}",
      r"\boxed{" + "a_{n+" * 150 + "1" + "}" * 150 + "}",
      " and ".join([r"$x_{1} = \boxed{7}$"] * 5_000),
      r"\boxed{1}" + " The final answer is " * 20_000 + "7",
      "1,2" * 100_000,
  ]


def test_nothing_executes_nothing_raises_and_the_batch_is_bounded(tmp_path):
  marker = tmp_path / "MARKER"
  completions = _hostile_completions(marker)
  n = len(completions)
  start = time.monotonic()
  math_rewards, stats = rmath.score(completions, ["1"] * n)
  cd_rewards = countdown.reward(completions, [[9, 9, 9, 9]] * n, [1] * n)
  fmt = (format.think_answer_reward(completions) + format.think_answer_soft_reward(completions)
         + format.tag_count_reward(completions, prefill="<think>"))
  rep = length.repetition_penalty(completions)
  total, per_fn, combined_stats = rewards.combine(
      {"math_accuracy": 1.0, "countdown": 1.0, "think_answer": 1.0, "tag_count": 1.0, "repetition": 0.1,
       "overlong": {"weight": 1.0, "max_length": 100, "buffer_length": 10}},
      completions, gold=["1"] * n, numbers=[[9, 9, 9, 9]] * n, target=[1] * n, lengths=[len(c) for c in completions])
  elapsed = time.monotonic() - start
  assert elapsed < 30.0
  assert not marker.exists()
  assert len(math_rewards) == len(cd_rewards) == n and len(fmt) == 3 * n and len(rep) == n
  assert all(r == 0.0 for r in math_rewards)
  assert all(r in (0.0, 0.1) for r in cd_rewards)  # the "(9-9)/(9-9)" division by zero is well formed but wrong
  assert np.all(np.isfinite(total)) and set(per_fn) == {"math_accuracy", "countdown", "think_answer", "tag_count",
                                                        "repetition", "overlong"}
  assert stats["errors"] == 0 and stats["parse_failures"] >= 20  # refused by the parser's bounds, not crashed
  assert combined_stats["parse_failures"] > 0


@pytest.mark.parametrize("prediction", [r"\boxed{9^{9^{9^{9}}}}", "9**9**9**9", r"\boxed{99999999999!}"])
def test_exponent_towers_are_refused_fast(prediction):
  start = time.monotonic()
  assert not rmath.verify("1", prediction)
  assert time.monotonic() - start < 10.0


def test_countdown_tower_is_malformed_not_computed():
  start = time.monotonic()
  assert countdown.reward(["<answer>9**9**9**9</answer>"], [[9, 9, 9, 9]], [1]) == [0.0]
  assert time.monotonic() - start < 1.0


# A worker with handlers that misbehave on purpose, run by the same serve() loop as the real one.
_TEST_WORKER = """
import os, sys, time
from r1jax.rewards._worker import serve

def sleep(seconds):
  time.sleep(seconds)
  return True, "ok"

def stubborn(seconds):  # swallows the soft timeout, like code that catches everything
  end = time.monotonic() + seconds
  while time.monotonic() < end:
    try:
      time.sleep(0.01)
    except BaseException:
      pass
  return True, "ok"

def crash():
  os._exit(3)

serve({"sleep": sleep, "stubborn": stubborn, "crash": crash, "echo": lambda v: (v, "ok")})
"""


@pytest.fixture(scope="module")
def test_pool():
  pool = _pool.WorkerPool(2, command=[sys.executable, "-c", _TEST_WORKER])
  yield pool
  pool.close()


def test_pool_soft_timeout_keeps_the_worker(test_pool):
  test_pool.run("echo", [[1]], timeout=5.0, batch_timeout=60.0)  # started
  restarts = test_pool.restarts
  results = test_pool.run("sleep", [[30], [0]], timeout=1.0, batch_timeout=60.0)
  assert results == [(None, "timeout"), (True, "ok")]
  assert test_pool.restarts == restarts


def test_pool_kills_and_replaces_a_stuck_worker(test_pool):
  restarts = test_pool.restarts
  start = time.monotonic()
  results = test_pool.run("stubborn", [[60], [0], [0]], timeout=1.0, batch_timeout=60.0)
  assert time.monotonic() - start < 15.0
  assert results == [(None, "timeout"), (True, "ok"), (True, "ok")]
  assert test_pool.restarts == restarts + 1
  assert test_pool.run("echo", [["again"]], timeout=5.0, batch_timeout=60.0) == [("again", "ok")]


def test_pool_survives_a_crashing_worker(test_pool):
  results = test_pool.run("crash", [[]], timeout=5.0, batch_timeout=60.0)
  assert results == [(None, "worker_error")]
  assert test_pool.run("echo", [[7]], timeout=5.0, batch_timeout=60.0) == [(7, "ok")]


def test_pool_batch_timeout_bounds_the_whole_call(test_pool):
  test_pool.run("echo", [[1], [2]], timeout=5.0, batch_timeout=60.0)
  start = time.monotonic()
  results = test_pool.run("stubborn", [[60]] * 6, timeout=30.0, batch_timeout=1.0)
  assert time.monotonic() - start < 10.0
  assert results == [(None, "batch_cap")] * 6  # cut by the cap, not by their own 30 s limit
  assert test_pool.run("echo", [[3]], timeout=5.0, batch_timeout=60.0) == [(3, "ok")]


def test_unknown_task_kind_is_an_error_not_a_hang(test_pool):
  assert test_pool.run("nope", [[1]], timeout=5.0, batch_timeout=60.0) == [(None, "error")]


def test_math_timeout_scores_zero_is_counted_and_cached():
  slow = r"\frac{(x+1)^{3}(y+1)^{200}(z+1)^{200}}{\lfloor x^2/100\rfloor}"  # seconds of expansion
  rmath.clear_cache()
  rmath.configure(timeout=0.2)
  try:
    rewards_, stats = rmath.score([rf"\boxed{{{slow}}}"], ["x"])
    again, stats_again = rmath.score([rf"\boxed{{{slow}}}"], ["x"])
  finally:
    rmath.configure(timeout=3.0)
  assert rewards_ == [0.0] and stats["timeouts"] == 1
  assert again == [0.0] and stats_again["cached"] == 1  # a timed-out answer is not judged again on the next call
  rmath.clear_cache()
  assert rmath.verify(r"\frac{(x+3)^5 - 1}{x + 2}", r"\frac{(3+x)^5 - 1}{2 + x}")

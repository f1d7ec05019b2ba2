"""The last line of a run: an improvement must go the metric's way by more than 2 standard errors of the difference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from r1jax.trainers.common import learning_line


def _write(tmp_path, rows):
  (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": i, **r}) + "\n" for i, r in enumerate(rows)))
  return tmp_path


def test_a_noisy_metric_that_drifts_by_less_than_its_noise_did_not_improve(tmp_path):
  noise = [0.1, -0.1] * 30
  rewards = [0.8 + n + 0.0002 * i for i, n in enumerate(noise)]  # +0.012 over the run, noise +-0.1
  line = learning_line("grpo", _write(tmp_path, [{"rollout/reward_mean": r} for r in rewards]),
                       {"rollout/reward_mean": "higher"})
  assert line.startswith("grpo did NOT improve: rollout/reward_mean"), line
  head, tail = np.array(rewards[:6]), np.array(rewards[-6:])  # windows of 60 // 10 rows
  x = np.arange(6.0)

  def se(w):  # the scatter around each window's own line, 4 degrees of freedom
    return math.sqrt(np.sum((w - np.polyval(np.polyfit(x, w, 1), x)) ** 2) / 4 / 6)

  assert f"({tail.mean() - head.mean():+.3f} ± {math.hypot(se(head), se(tail)):.3f})" in line


def test_a_rise_beyond_the_noise_learned_and_a_falling_loss_learned(tmp_path):
  noise = [0.01, -0.01] * 30
  rows = [{"rollout/reward_mean": 0.5 + 0.01 * i + n, "train/loss": 2.0 - 0.02 * i + n} for i, n in enumerate(noise)]
  line = learning_line("grpo", _write(tmp_path, rows), {"rollout/reward_mean": "higher"})
  assert line.startswith("grpo learned: rollout/reward_mean 0.525 -> 1.065 (+0.540 ± 0.")
  assert learning_line("sft", tmp_path, {"train/loss": "lower"}).startswith("sft learned: train/loss")


def test_a_loss_falling_fast_within_its_first_window_is_a_trend_not_noise(tmp_path):
  # The first window's spread around its mean (std 0.83) would hide the fall; around its trend it is 0.36.
  losses = [2.6, 1.0, 0.6, 0.5, 0.45, 0.42] + [0.41 - 0.0003 * i for i in range(48)] + [0.39, 0.385, 0.39, 0.386,
                                                                                       0.388, 0.387]
  line = learning_line("sft", _write(tmp_path, [{"train/loss": v} for v in losses]), {"train/loss": "lower"})
  assert line.startswith("sft learned: train/loss 0.928 -> 0.388 (-0.541 ± 0.232)"), line


def test_a_sampled_accuracy_uses_its_logged_standard_errors(tmp_path):
  rows = [{"eval/pass@1": 0.50, "eval/pass@1_se": 0.05}, {"eval/pass@1": 0.62, "eval/pass@1_se": 0.05}]
  line = learning_line("grpo", _write(tmp_path, rows), {"eval/pass@1": "higher"})
  assert line == "grpo did NOT improve: eval/pass@1 0.500 -> 0.620 (+0.120 ± 0.071)"  # 0.12 < 2 * hypot(.05, .05)
  rows[-1]["eval/pass@1"] = 0.65
  assert learning_line("grpo", _write(tmp_path, rows), {"eval/pass@1": "higher"}).startswith("grpo learned:")


def test_a_falling_divergence_learned_and_a_rising_one_did_not(tmp_path):
  # Distillation's held-out KL is "lower is better" though its name does not end in "loss".
  noise = [0.01, -0.01] * 30
  rows = [{"eval/heldout_kd": 4.0 - 0.05 * i + n} for i, n in enumerate(noise)]
  line = learning_line("distill", _write(tmp_path, rows), {"eval/heldout_kd": "lower"})
  assert line.startswith("distill learned: eval/heldout_kd 3.875 -> 1.175 (-2.700 ± 0."), line
  rising = [{"eval/heldout_kd": 1.0 + 0.05 * i + n} for i, n in enumerate(noise)]
  line = learning_line("distill", _write(tmp_path, rising), {"eval/heldout_kd": "lower"})
  assert line.startswith("distill did NOT improve: eval/heldout_kd"), line


def test_every_learn_key_needs_a_direction(tmp_path):
  with pytest.raises(ValueError, match="eval/heldout_kd"):
    learning_line("distill", _write(tmp_path, [{"eval/heldout_kd": 1.0}] * 2), {"eval/heldout_kd": "down"})


def test_three_rows_are_too_few_to_judge_and_do_not_say_learned(tmp_path):
  rows = [{"rollout/reward_mean": r} for r in (0.516, 0.469, 0.547)]
  line = learning_line("grpo", _write(tmp_path, rows), {"rollout/reward_mean": "higher"})
  assert line == ("grpo has too few logged rows to tell whether it learned: rollout/reward_mean 0.516 -> 0.547 "
                  "(+0.031; 3 rows, too few to judge)")
  # Beside a key that can be judged, the unjudged one counts neither way.
  rows = [{"rollout/reward_mean": r, "eval/pass@1": p, "eval/pass@1_se": 0.01}
          for r, p in ((0.516, 0.5), (0.469, 0.5), (0.547, 0.5))]
  line = learning_line("grpo", _write(tmp_path, rows), {"eval/pass@1": "higher", "rollout/reward_mean": "higher"})
  assert line == ("grpo did NOT improve: eval/pass@1 0.500 -> 0.500 (+0.000 ± 0.014); rollout/reward_mean 0.516 -> "
                  "0.547 (+0.031; 3 rows, too few to judge)")

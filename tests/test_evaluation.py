"""Evaluation metrics against hand computations: pass@k, maj@k, and pass@1's standard error clustered by prompt."""

import math

import numpy as np
import pytest

from r1jax import evaluation


def test_pass_at_1_se_is_the_standard_error_of_the_per_prompt_pass_rates():
  # Two prompts, four samples each: one always right, one always wrong. The per-prompt rates are (1, 0), whose
  # standard error is std(ddof 1) / sqrt(2) = 0.7071 / 1.4142 = 0.5. Treating the 8 samples as independent would
  # give sqrt(0.5 * 0.5 / 8) = 0.18, far too small: the samples of one prompt are not independent draws.
  correct = np.array([[1, 1, 1, 1], [0, 0, 0, 0]], bool)
  assert evaluation.pass_at_1_se(correct) == pytest.approx(0.5)
  # Rates (0.75, 0.25, 0.5): mean 0.5, sample variance ((0.25)^2 + (0.25)^2 + 0) / 2 = 0.0625, SE = 0.25 / sqrt(3).
  correct = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 0]], bool)
  assert evaluation.pass_at_1_se(correct) == pytest.approx(0.25 / math.sqrt(3))
  m = evaluation.group_metrics(correct.reshape(-1), group_size=4, ks=(4,))
  assert m["pass@1"] == pytest.approx(0.5) and m["pass@1_se"] == pytest.approx(0.25 / math.sqrt(3))
  assert m["pass@4"] == 1.0
  assert evaluation.pass_at_1_se(np.array([[1, 0]], bool)) == 0.0  # one prompt: no spread to estimate


def test_pass_at_k_and_majority_by_hand():
  assert evaluation.pass_at_k(4, 1, 2) == pytest.approx(1 - (3 * 2) / (4 * 3))  # 1 - C(3,2)/C(4,2) = 0.5
  assert evaluation.pass_at_k(4, 0, 2) == 0.0 and evaluation.pass_at_k(4, 3, 2) == 1.0
  assert evaluation.majority_correct(["7", "8", "7", None], [True, False, True, False])
  assert not evaluation.majority_correct(["8", "7", "8", "7"], [False, True, False, True])  # tie: first seen wins
  assert not evaluation.majority_correct([None, None], [False, False])

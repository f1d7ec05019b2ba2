"""Evaluation metrics against brute force and hand computations (the formulas of docs/algorithms.md, Evaluation):
unbiased pass@k, pass@1 over n samples with its standard error over prompts, maj@k."""

import itertools
import statistics

import numpy as np
import pytest

from r1jax import evaluation


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
  """The share of the C(n, k) size-k subsets of n samples (the first c correct) holding a correct sample."""
  subsets = list(itertools.combinations(range(n), k))
  return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_is_the_subset_probability(n):
  for c in range(n + 1):
    for k in range(1, n + 1):
      assert evaluation.pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k), abs=1e-12), (n, c, k)


def test_pass_at_k_stays_finite_where_the_binomials_are_huge():
  # C(2000, 1000) has ~600 digits; the product form never builds it. 1 - C(1000, 10)/C(2000, 10) by hand in logs:
  expected = 1.0 - np.exp(sum(np.log(1000 - i) - np.log(2000 - i) for i in range(10)))
  assert evaluation.pass_at_k(2000, 1000, 10) == pytest.approx(expected, rel=1e-12)
  with pytest.raises(ValueError, match="0 <= c <= n"):
    evaluation.pass_at_k(4, 5, 1)


def test_pass_at_1_is_the_mean_over_samples_with_the_prompt_as_the_unit_of_its_standard_error():
  correct = np.array([[1, 1, 0, 0],   # per-prompt rates 0.5, 0.25, 1.0, 0.0
                      [0, 1, 0, 0],
                      [1, 1, 1, 1],
                      [0, 0, 0, 0]], bool)
  out = evaluation.group_metrics(correct.reshape(-1), group_size=4, ks=(1, 2, 4))
  rates = [0.5, 0.25, 1.0, 0.0]
  assert out["pass@1"] == pytest.approx(sum(rates) / 4)
  assert out["pass@1_se"] == pytest.approx(statistics.stdev(rates) / 2.0)  # ddof 1, / sqrt(4 prompts)
  assert out["pass@2"] == pytest.approx(np.mean([brute_force_pass_at_k(4, c, 2) for c in (2, 1, 4, 0)]))
  assert out["pass@4"] == pytest.approx(0.75)  # three prompts have a correct sample
  # 16 independent samples would give a much smaller (wrong) error: sqrt(p (1 - p) / 16) = 0.125 vs ~0.22 here.
  assert out["pass@1_se"] > 0.2
  assert evaluation.pass_at_1_se(np.array([[1, 0, 1]])) == 0.0  # one prompt: no spread to measure


def test_maj_at_k_votes_over_the_first_k_answers_ties_to_the_first_seen_and_no_answer_is_wrong():
  answers = ["3", "4", "4", "3",        # gold 3. k=1: "3" right; k=3: "4" wins, wrong; k=4: 3/4 tie -> "3", right
             "7", "8", "8", "7",        # gold 7. k=1: right; k=3: "8" wins, wrong; k=4: tie -> "7", right
             None, None, None, None,    # gold 5. no answer at all: wrong for every k
             "1", None, "2", "2"]       # gold 1. k=1: right; k=3: 1/2 tie -> "1", right; k=4: "2" wins, wrong
  golds = ["3"] * 4 + ["7"] * 4 + ["5"] * 4 + ["1"] * 4
  correct = np.array([a == g for a, g in zip(answers, golds)])
  out = evaluation.group_metrics(correct, group_size=4, answers=answers, ks=(1, 3, 4))
  assert out["maj@1"] == pytest.approx((1 + 1 + 0 + 1) / 4)
  assert out["maj@3"] == pytest.approx((0 + 0 + 0 + 1) / 4)
  assert out["maj@4"] == pytest.approx((1 + 1 + 0 + 0) / 4)
  assert out["pass@4"] == pytest.approx(3 / 4)  # maj@k <= pass@k: a majority can only pick an answer that was given

"""Evaluation metrics over G samples per prompt: pass@1 averaged over k samples, pass@k, maj@k; and a reward
model's accuracy on held-out preference pairs.

    pass@k  = E_prompts[ 1 − C(n − c, k) / C(n, k) ]     (unbiased, Chen et al. 2021: n samples, c correct)
    pass@1  = E_prompts[ c / n ]                          (the R1 paper's "pass@1 over k samples")
    SE      = std_prompts(c / n) / sqrt(B)                (its standard error over B prompts, ddof 1: samples of
                                                           one prompt are correlated, so the prompt is the unit)
    maj@k   = E_prompts[ the most frequent final answer among k samples is correct ]
    pair accuracy = mean_i [r_chosen,i > r_rejected,i]  (a tie counts 1/2), SE = sqrt(acc (1 − acc) / N)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from r1jax.rewards import format as format_reward
from r1jax.rewards import math as math_reward


def pass_at_k(n: int, c: int, k: int) -> float:
  """Unbiased pass@k of one problem with n samples of which c are correct: 1 − C(n−c, k)/C(n, k).

  Computed as 1 − Π_{i=n−c+1..n} (1 − k/i), which never forms the huge binomials.
  """
  if not 0 <= c <= n or not 1 <= k <= n:
    raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
  if n - c < k:
    return 1.0
  return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def majority_correct(answers: Sequence[str | None], correct: Sequence[bool]) -> bool:
  """Whether the most frequent non-empty answer is correct (ties: the answer seen first). No answer: False."""
  votes = Counter(a for a in answers if a)
  if not votes:
    return False
  top = max(votes.values())
  winner = next(a for a in answers if a and votes[a] == top)
  return bool(next(c for a, c in zip(answers, correct) if a == winner))


def pass_at_1_se(correct: np.ndarray) -> float:
  """Standard error of pass@1 over prompts: correct [B, G] -> std_i(mean_j correct_ij) / sqrt(B) (ddof 1; 0 for
  a single prompt). The B per-prompt pass rates are independent; the G samples of one prompt are not."""
  rates = np.asarray(correct, np.float64).reshape(len(correct), -1).mean(-1)
  return float(rates.std(ddof=1) / np.sqrt(len(rates))) if len(rates) > 1 else 0.0


def group_metrics(correct: np.ndarray, group_size: int, answers: Sequence[str | None] | None = None,
                  ks: Sequence[int] = ()) -> dict[str, float]:
  """correct [B*G] bool (sample i*G + j of prompt i) -> pass@1, pass@k and maj@k for each k in ks (k <= G)."""
  correct = np.asarray(correct, bool).reshape(-1, group_size)
  counts = correct.sum(-1)
  out = {"pass@1": float(correct.mean()), "pass@1_se": pass_at_1_se(correct)}
  for k in ks:
    if k > group_size:
      raise ValueError(f"pass@{k} needs at least {k} samples per prompt, have {group_size}")
    if k > 1:
      out[f"pass@{k}"] = float(np.mean([pass_at_k(group_size, int(c), k) for c in counts]))
    if answers is not None:
      groups = [answers[i * group_size:i * group_size + k] for i in range(len(counts))]
      out[f"maj@{k}"] = float(np.mean([majority_correct(g, correct[i, :k]) for i, g in enumerate(groups)]))
  return out


def final_answers(texts: Sequence[str]) -> list[str | None]:
  """The extracted final answer of each completion, whitespace-normalised, for majority voting."""
  out = []
  for text in texts:
    answer = math_reward.extract_answer(text)
    out.append(" ".join(answer.split()) if answer else None)
  return out


def applied_mean(values: np.ndarray) -> float:
  """Mean over the samples a reward applied to (a reward routed to some prompt types is NaN on the others);
  NaN when it applied to none."""
  values = np.asarray(values, np.float64)
  applied = values[~np.isnan(values)]
  return float(applied.mean()) if applied.size else float("nan")


def rollout_metrics(rollouts: Any, correct_reward: str, ks: Sequence[int] = (), prefix: str = "") -> dict[str, float]:
  """Metrics of scored `r1jax.rollout.Rollouts`: a sample is correct iff reward `correct_reward` is (about) 1.

  pass@1 (+ its standard error), pass@k and maj@k for k in ks, the mean total reward and each reward's mean,
  format_rate (strict <think>...</think><answer>...</answer>), mean completion length and truncated fraction.
  """
  correct = rollouts.reward_parts[correct_reward] >= 1.0 - 1e-6
  metrics = group_metrics(correct, rollouts.group_size, final_answers(rollouts.judged_texts), ks)
  lengths = np.asarray(rollouts.sample.lengths)
  texts = rollouts.judged_texts
  metrics.update({"reward_mean": float(np.mean(rollouts.rewards)), "completion_length": float(lengths.mean()),
                  "format_rate": float(np.mean([format_reward.is_strict_format(t) for t in texts])),
                  "truncated_fraction": float(np.mean(np.asarray(rollouts.sample.truncated)))})
  for name, values in rollouts.reward_parts.items():
    metrics[f"reward/{name}"] = applied_mean(values)
  return {prefix + k: v for k, v in metrics.items()}


def pair_metrics(chosen: np.ndarray, rejected: np.ndarray) -> dict[str, float]:
  """A reward model on N held-out pairs, scores chosen [N] and rejected [N]: pair accuracy (ties count 1/2) with
  its binomial standard error, the Bradley-Terry loss mean(−log σ(r_c − r_r)), the mean margin, and the mean and
  std of all 2N scores (the `offset` / `scale` that centre the model's scores as a reward)."""
  chosen, rejected = np.asarray(chosen, np.float64), np.asarray(rejected, np.float64)
  if chosen.shape != rejected.shape or chosen.ndim != 1 or not chosen.size:
    raise ValueError(f"pair_metrics needs two equal non-empty [N] arrays, got {chosen.shape} and {rejected.shape}")
  diff = chosen - rejected
  accuracy = float(np.mean(np.where(diff > 0, 1.0, np.where(diff == 0, 0.5, 0.0))))
  both = np.concatenate([chosen, rejected])
  return {"pair_accuracy": accuracy, "pair_accuracy_se": float(np.sqrt(accuracy * (1 - accuracy) / diff.size)),
          "bt_loss": float(np.mean(np.logaddexp(0.0, -diff))), "margin_mean": float(diff.mean()),
          "score_mean": float(both.mean()), "score_std": float(both.std()), "pairs": float(diff.size)}

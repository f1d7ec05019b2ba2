"""The GRPO update batch: prompt + completion rows in the i*G + j layout, and mask_truncated (docs/algorithms.md)."""

import numpy as np

from r1jax import rollout
from r1jax.data.templates import Prompt
from r1jax.sampling import SampleOutput
from r1jax.train import grpo as grpo_train


def _rollouts():
  """2 prompts x G=2 completions of 3 tokens; completion 1 (prompt 0, sample 1) ran out of tokens without EOS."""
  tokens = np.array([[11, 12, 2], [13, 14, 15], [16, 2, 0], [17, 18, 2]], np.int32)
  mask = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 0], [1, 1, 1]], np.int32)
  sample = SampleOutput(tokens=tokens, logprobs=-np.arange(12, dtype=np.float32).reshape(4, 3), mask=mask,
                        lengths=mask.sum(-1), truncated=np.array([False, True, False, False]))
  return rollout.Rollouts(rows=[{"question": "a", "gold": "1"}, {"question": "b", "gold": "2"}],
                          prompts=[Prompt("p0"), Prompt("p1")], prompt_ids=np.array([[0, 5], [6, 7]], np.int32),
                          prompt_mask=np.array([[0, 1], [1, 1]], np.int32), sample=sample,
                          completions=["x"] * 4, group_size=2)


def test_rows_are_the_prompt_repeated_per_sample_then_the_completion():
  ro = _rollouts()
  batch = grpo_train.update_batch(ro, np.array([0.5, -0.5, 1.0, -1.0]))
  np.testing.assert_array_equal(batch["input_ids"][:, :2], [[0, 5], [0, 5], [6, 7], [6, 7]])  # sample i*G + j
  np.testing.assert_array_equal(batch["input_ids"][:, 2:], ro.sample.tokens)
  np.testing.assert_array_equal(batch["attention_mask"], np.concatenate([[[0, 1], [0, 1], [1, 1], [1, 1]],
                                                                         ro.sample.mask], 1))
  np.testing.assert_array_equal(batch["completion_mask"], ro.sample.mask)
  np.testing.assert_array_equal(batch["sample_logp"], ro.sample.logprobs)


def test_mask_truncated_drops_only_the_truncated_completion_from_the_loss():
  ro = _rollouts()
  advantages = np.array([0.5, -0.5, 1.0, -1.0], np.float32)
  batch = grpo_train.update_batch(ro, advantages, mask_truncated=True)
  expected = np.array(ro.sample.mask)
  expected[1] = 0
  np.testing.assert_array_equal(batch["completion_mask"], expected)
  # Only the loss mask changes: the row still attends to its tokens, and its advantage (from its group's rewards,
  # which counted the truncated completion) is kept as it was.
  np.testing.assert_array_equal(batch["attention_mask"][1], [0, 1, 1, 1, 1])
  np.testing.assert_array_equal(batch["advantages"], advantages)

"""The code task end to end: rows -> rollouts scored by the sandboxed code reward -> the GRPO loop."""

import jax.numpy as jnp
import numpy as np
import pytest

from configs import grpo_code
from experiments import grpo
from r1jax import rollout
from r1jax.data import tasks
from r1jax.data.templates import render
from r1jax.sampling import SampleOutput
from r1jax.train import read_metrics

pytestmark = pytest.mark.xdist_group("code_sandbox")


def test_rollout_score_hands_each_row_its_tests():
  """Two samples per row, the reference and a broken copy: the reward sees the right row's tests for each."""
  rows = tasks.load("code", "test", n=3, seed=0).to_list()
  prompts = [render("r1_zero_short", row) for row in rows]
  completions = []
  for row, prompt in zip(rows, prompts):
    good = row["completion"][len(prompt.prefill):]
    completions += [good, good.replace("return ", "return 1 + ", 1)]
  b, g, n = len(rows), 2, 4
  sample = SampleOutput(tokens=jnp.zeros((b * g, n), jnp.int32), logprobs=jnp.zeros((b * g, n)),
                        mask=jnp.ones((b * g, n), jnp.int32), lengths=jnp.full((b * g,), n),
                        truncated=jnp.zeros((b * g,), bool))
  ro = rollout.Rollouts(rows=rows, prompts=prompts, prompt_ids=np.ones((b, 3), np.int32),
                        prompt_mask=np.ones((b, 3), np.int32), sample=sample, completions=completions, group_size=g)
  rollout.score(ro, grpo_code.get_config("quick").rewards.to_dict())
  assert ro.reward_parts["code_accuracy"].tolist() == [1.0, 0.0] * b
  assert ro.reward_parts["think_answer"].tolist() == [1.0] * (b * g)
  assert ro.reward_stats["code_accuracy/programs"] == b * g


@pytest.mark.slow
def test_grpo_code_quick_runs_end_to_end(tmp_path):
  c = grpo_code.get_config("quick")
  c.rollout.update(prompts_per_step=2, num_generations=4, max_new_tokens=24)
  c.train.update(steps=2, eval_every=2, checkpoint_every=2, samples_every=0, export_hf=False)
  c.optimizer.total_steps = 2
  c.eval.update(num_prompts=4, num_samples=2, max_new_tokens=24, ks=(1, 2))
  grpo.train(c, tmp_path)
  rows = read_metrics(tmp_path / "metrics.jsonl")
  steps = [r for r in rows if "rollout/reward/code_accuracy" in r]
  assert [r["step"] for r in steps] == [1, 2]
  assert all(r["rollout/reward_stats/code_accuracy/no_code"] + r["rollout/reward_stats/code_accuracy/programs"] > 0
             for r in steps)
  assert "eval/pass@1" in rows[-1] and "eval/reward/code_accuracy" in rows[-1]

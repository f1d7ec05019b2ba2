"""GRPO with rule rewards (DeepSeekMath / DeepSeek-R1), and its variants (Dr. GRPO, DAPO, GSPO) by config.

    python -m experiments.grpo --config configs/grpo_arithmetic.py:tiny --workdir runs/grpo_tiny
    python -m experiments.grpo --config configs/grpo_countdown.py:dapo --config.model.init_from=runs/sft/hf \
        --workdir runs/grpo_dapo

One step: prompts -> G completions each -> rewards -> group advantages -> (DAPO dynamic sampling, overlong
shaping, truncation masking) -> reference / old log-probs -> num_iterations x mini-batch updates -> log ->
evaluate -> checkpoint. Re-running with the same --workdir resumes the same trajectory.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from experiments import common
from r1jax import rollout
from r1jax.data import batching
from r1jax.losses import grpo
from r1jax.train import MetricWriter, PreemptionGuard, Progress, make_train_step
from r1jax.train import grpo as grpo_train



def loss_config(config: ml_collections.ConfigDict) -> grpo_train.GRPOLossConfig:
  g = config.grpo
  return grpo_train.GRPOLossConfig(loss_type=g.loss_type, epsilon_low=g.epsilon_low, epsilon_high=g.epsilon_high,
                                   beta=g.beta, kl_estimator=g.kl_estimator, importance_sampling=g.importance_sampling,
                                   temperature=config.rollout.temperature or 1.0,
                                   max_tokens=config.rollout.max_new_tokens)


def rollout_stats(ro: rollout.Rollouts) -> dict[str, float]:
  """Per-step RL health metrics (STYLE.md §7) of a scored rollout batch."""
  lengths = np.asarray(ro.sample.lengths)
  grouped = ro.rewards.reshape(-1, ro.group_size)
  stats = {"reward_mean": float(ro.rewards.mean()), "reward_std": float(ro.rewards.std()),
           "zero_std_fraction": float(np.mean(np.all(grouped == grouped[:, :1], -1))),
           "completion_length_mean": float(lengths.mean()), "completion_length_max": float(lengths.max()),
           "truncated_fraction": float(np.mean(np.asarray(ro.sample.truncated))),
           "prompts_truncated": float(ro.num_prompts_truncated)}
  stats.update({f"reward/{k}": float(v.mean()) for k, v in ro.reward_parts.items()})
  stats.update({f"reward_stats/{k}": float(v) for k, v in ro.reward_stats.items()})
  return stats


def train(config: ml_collections.ConfigDict, workdir: str | Path, init_params=None) -> dict:
  """Run (or resume) GRPO. `init_params` overrides config.model (used by the pipeline to chain stages)."""
  run, extra = common.start_run(config, workdir, init_params)
  tokenizer, cfg, state = run.tokenizer, run.cfg, run.state
  lc = loss_config(config)
  # The reference policy is the initial one (rebuilt identically on resume); only kept when the KL term is on.
  ref_params = jax.tree.map(jnp.copy, common.initial_params(run, config, init_params)) if lc.beta else None

  train_rows = common.load_rows(config.task, "train", config.task.n_train, config.seed)
  test_rows = common.load_rows(config.task, "test", config.task.n_test, config.seed)
  eval_rows = [test_rows[i] for i in range(min(config.eval.num_prompts, len(test_rows)))]
  data_state, start = extra.get("data"), int(extra.get("step", 0))
  prompts = batching.DataIterator(train_rows, config.rollout.prompts_per_step, seed=config.seed, state=data_state)

  g = config.rollout.num_generations
  sc = common.sampling_config(config.rollout, tokenizer, num_samples=g)
  reward_spec = common.to_dict(config.rewards)
  gc = config.grpo
  loss_fn = grpo_train.make_loss_fn(cfg, lc)
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=gc.micro_batches,
                            normalizer_fn=grpo_train.normalizer_fn(lc), state_shardings=run.shardings,
                            batch_shardings=None)
  logp_fn = jax.jit(functools.partial(grpo_train.completion_logprobs, cfg, temperature=lc.temperature,
                                      chunk=lc.logprob_chunk))

  def draw(step: int, draw_index: int) -> rollout.Rollouts:
    ro = rollout.sample(cfg, state.params, tokenizer, next(prompts), config.task.template, sc,
                        common.step_rng(config.seed, step, 100 + draw_index),
                        max_prompt_len=config.task.max_prompt_len,
                        template_opts=common.to_dict(config.task.template_opts))
    return rollout.score(ro, reward_spec, max_length=config.rollout.max_new_tokens)

  step = start
  writer = MetricWriter(run.workdir, start_step=start)

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, config,
                                  common.step_rng(config.seed, step, 1))
    common.write_samples(run.workdir / "eval_samples.jsonl", ro, step, limit=8)
    return metrics

  if start == 0 and config.train.eval_every:
    writer.write(0, run_eval(0))
  progress = Progress(config.train.steps, start, desc="grpo")
  with PreemptionGuard() as guard:
    for step in range(start + 1, config.train.steps + 1):
      t0 = time.perf_counter()
      extra_stats = {}
      if gc.dynamic_sampling:
        draws = iter(range(gc.max_draws))
        ro, extra_stats = rollout.dynamic_sample(lambda: draw(step, next(draws)), config.rollout.prompts_per_step,
                                                 gc.max_draws)
      else:
        ro = draw(step, 0)
      t_rollout = time.perf_counter() - t0
      metrics = {}
      if ro is not None:
        metrics.update({f"rollout/{k}": v for k, v in rollout_stats(ro).items()})
        adv = np.asarray(grpo.advantages(gc.advantage_estimator, ro.rewards, g))
        # Shared-prefix layout (each prompt once per group; mini-/micro-batches are whole groups), trimmed to the
        # longest completion in quarters of max_new_tokens (at most 4 compiled shapes).
        batch = grpo_train.update_batch(ro, adv, mask_truncated=gc.mask_truncated, share_prompt=True,
                                        bucket=-(-config.rollout.max_new_tokens // 4))
        dev = {k: jnp.asarray(v) for k, v in batch.items()}
        if lc.beta:
          dev["ref_logp"] = logp_fn(ref_params, dev)
        if gc.num_iterations > 1:
          dev["old_logp"] = logp_fn(state.params, dev)
        rows = batch["advantages"].shape[0]  # prompt groups
        if rows % gc.mini_batches:
          raise ValueError(f"{rows} prompt groups do not split into config.grpo.mini_batches={gc.mini_batches}")
        order = np.arange(rows)
        for it in range(gc.num_iterations):
          if it:  # later passes see the mini-batches in a new order, as in PPO epochs
            order = np.random.default_rng([config.seed, step, it]).permutation(rows)
          for part in np.array_split(order, gc.mini_batches):
            state, m = step_fn(state, jax.tree.map(lambda x: x[part], dev))
        metrics.update({f"train/{k}": v for k, v in common.to_python_metrics(m).items()})
      metrics.update({f"rollout/{k}": v for k, v in extra_stats.items()})
      metrics["time/rollout_s"], metrics["time/step_s"] = t_rollout, time.perf_counter() - t0
      if step % config.train.log_every == 0 or step == config.train.steps:
        writer.write(step, metrics)
      if config.train.samples_every and step % config.train.samples_every == 0 and ro is not None:
        common.write_samples(run.workdir / "rollouts.jsonl", ro, step)
      progress.update({"reward_mean": metrics.get("rollout/reward_mean", float("nan"))})
      ckpt_extra = {"data": prompts.state(), "step": step}
      if common.end_of_step(config, run, writer, guard, step, state, ckpt_extra, run_eval):
        break
  progress.close()
  run.checkpointer.close()
  writer.close()
  return common.finish_run(config, run, state, step, updates=int(state.step))


if __name__ == "__main__":
  common.run_main(train, "configs/grpo_*.py[:variant]")

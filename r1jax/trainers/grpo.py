"""GRPO with rule rewards (DeepSeekMath, DeepSeek-R1) and its variants (Dr. GRPO, DAPO, GSPO), by settings.

    from r1jax.trainers import grpo, settings
    out = grpo.train(settings.GRPOSettings(...), "runs/grpo")     # or experiments/grpo.py on a config file

One step: prompts -> G completions each -> rewards -> group advantages -> (DAPO dynamic sampling, overlong
shaping, truncation masking) -> reference / old log-probs -> num_iterations x mini_batches updates -> log ->
evaluate -> checkpoint. Running again with the same workdir resumes the same trajectory.

The policy loss is looked up by name (`settings.grpo.loss_type`) in r1jax.losses.grpo.POLICY_LOSSES, so a loss a
notebook registered trains here unchanged; the advantage estimator likewise (`settings.grpo.advantage_estimator`).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from r1jax import evaluation, rollout, sharding
from r1jax.checks import RunError
from r1jax.data import batching
from r1jax.losses import grpo
from r1jax.models import param_logical_axes
from r1jax.train import MetricWriter, PreemptionGuard, make_train_step
from r1jax.train.metrics import to_python
from r1jax.train import grpo as grpo_train
from r1jax.trainers import common
from r1jax.trainers.settings import GRPOSettings


class NoLearningSignal(RunError):
  """Every group's rewards were equal for too many steps in a row: GRPO's gradient is zero, training cannot learn."""


def loss_knobs(s: GRPOSettings) -> dict[str, Any]:
  """What a registered policy loss may ask for by name: every GRPO setting plus max_tokens (dr_grpo's constant)."""
  knobs = {f.name: getattr(s.grpo, f.name) for f in dataclasses.fields(s.grpo)}
  knobs["max_tokens"] = s.rollout.max_new_tokens
  return knobs


def rollout_stats(ro: rollout.Rollouts) -> dict[str, float]:
  """Per-step RL health metrics of a scored rollout batch: rewards, zero-std groups, lengths, truncation."""
  lengths = np.asarray(ro.sample.lengths)
  stats = {"reward_mean": float(ro.rewards.mean()), "reward_std": float(ro.rewards.std()),
           "zero_std_fraction": float(np.mean(np.asarray(grpo.zero_std_groups(ro.rewards, ro.group_size)))),
           "completion_length_mean": float(lengths.mean()), "completion_length_max": float(lengths.max()),
           "truncated_fraction": float(np.mean(np.asarray(ro.sample.truncated)))}
  stats.update({f"reward/{k}": evaluation.applied_mean(v) for k, v in ro.reward_parts.items()})
  stats.update({f"reward_stats/{k}": float(v) for k, v in ro.reward_stats.items()})
  return stats


@common.stoppable("grpo")
def train(s: GRPOSettings, workdir: str | Path, init_params: Any = None, rows: Any = None) -> dict:
  """Run (or resume) GRPO. `init_params` overrides s.model's weights and `rows` the task's train rows (the pipeline
  chains stages this way). -> summary dict (see common.finish_run) with "params" and "cfg"."""
  gs = s.grpo
  run, extra = common.start_run("grpo", s, workdir, total_updates=s.train.steps * gs.updates_per_step,
                                init_params=init_params, reserve_devices=s.rollout.devices)
  tokenizer, cfg, state, mesh = run.tokenizer, run.cfg, run.state, run.mesh
  # Colocated (default): rollouts sample with the training params on the training mesh. Disaggregated: on their own
  # mesh of the devices the training mesh left out, with the params resharded onto it after each step's updates.
  rollout_mesh, to_rollout_mesh = mesh, lambda params: params
  if s.rollout.devices:
    rollout_mesh = sharding.make_mesh(data=-1, fsdp=1, tensor=s.rollout.tensor,
                                      devices=jax.devices()[-s.rollout.devices:])
    rollout_sh = sharding.logical_to_shardings(rollout_mesh, param_logical_axes(cfg), state.params)
    to_rollout_mesh = functools.partial(jax.device_put, device=rollout_sh)
  temperature = s.rollout.temperature
  loss, knobs = grpo_train.resolve_loss(gs.loss_type, loss_knobs(s), gs.loss_options)
  grpo.ADVANTAGE_ESTIMATORS[gs.advantage_estimator]  # noqa: B018 (an unknown name fails now, not at step 1)
  # The reference policy is the initial one (rebuilt identically on resume); only kept when the KL term is on.
  ref_params = jax.tree.map(jnp.copy, common.initial_params(run, init_params)) if gs.beta else None

  model_rewards = common.model_rewards(s, run.mesh)  # {"reward_model": judge} when the rewards name it
  train_rows = rows if rows is not None else common.load_rows(s.task, "train", s.task.n_train, s.seed)
  train_rows = common.fit_prompts(tokenizer, train_rows, s.task, "train")
  test_rows = common.load_rows(s.task, s.task.eval_split, s.task.n_test, s.seed)
  eval_rows = common.fit_prompts(tokenizer, test_rows, s.task, s.task.eval_split)[:s.eval.num_prompts]
  data_state, start = extra.get("data"), int(extra.get("step", 0))
  prompts = batching.DataIterator(train_rows, s.rollout.prompts_per_step, seed=s.seed, state=data_state)

  g = s.rollout.num_generations
  sc = common.sampling_config(s.rollout, tokenizer, num_samples=g)
  loss_fn = sharding.with_activation_sharding(
      grpo_train.make_loss_fn(cfg, loss, knobs, temperature=temperature, logprob_chunk=gs.logprob_chunk), mesh)
  step_fn = make_train_step(loss_fn, run.tx, schedule=run.schedule, num_micro_batches=gs.micro_batches,
                            normalizer_fn=grpo_train.normalizer_fn(loss, knobs), state_shardings=run.shardings,
                            batch_shardings=None)
  logp_fn = jax.jit(sharding.with_activation_sharding(
      functools.partial(grpo_train.completion_logprobs, cfg, temperature=temperature, chunk=gs.logprob_chunk), mesh))

  def draw(step: int, draw_index: int, policy: Any) -> rollout.Rollouts:
    ro = rollout.sample(cfg, policy, tokenizer, next(prompts), s.task.template, sc,
                        common.step_rng(s.seed, step, 100 + draw_index), max_prompt_len=s.task.max_prompt_len,
                        prompt_policy=s.task.prompt_policy, template_opts=s.task.template_opts,
                        prompt_buckets=common.prompt_buckets(s.task), shard_fn=sharding.batch_placer(rollout_mesh))
    return rollout.score(ro, s.rewards, model_rewards, max_length=s.rollout.max_new_tokens)

  writer = MetricWriter(run.workdir, start_step=start)

  def run_eval(step: int) -> dict:
    metrics, ro = common.evaluate(cfg, state.params, tokenizer, eval_rows, s.task, s.eval,
                                  common.step_rng(s.seed, step, 1), registry=model_rewards, mesh=mesh)
    common.write_samples(run.workdir / "eval_samples.jsonl", ro, step, limit=8)
    return metrics

  progress = common.Progress("grpo", s.train.steps, start, ("rollout/reward_mean", "eval/pass@1", "train/loss",
                                                            "rollout/zero_std_fraction"))
  if start == 0 and s.train.eval_every:
    progress.line(0, writer.write(0, run_eval(0)))
  step, flat_steps = start, int(extra.get("flat_steps", 0))
  with PreemptionGuard() as guard:
    for step in range(start + 1, s.train.steps + 1):
      t0 = time.perf_counter()
      extra_stats = {}
      policy = to_rollout_mesh(state.params)
      if gs.dynamic_sampling:
        draws = iter(range(gs.max_draws))
        ro, extra_stats = rollout.dynamic_sample(lambda: draw(step, next(draws), policy), s.rollout.prompts_per_step,
                                                 gs.max_draws, fill=gs.fill_short_batch)
      else:
        ro = draw(step, 0, policy)
      del policy
      t_rollout = time.perf_counter() - t0
      metrics = {}
      signal = ro is not None and not bool(np.all(np.asarray(grpo.zero_std_groups(ro.rewards, g))))
      if ro is not None:
        metrics.update({f"rollout/{k}": v for k, v in rollout_stats(ro).items()})
        adv = np.asarray(grpo.advantages(gs.advantage_estimator, ro.rewards, g))
        # Shared-prefix layout (each prompt once per group; mini-/micro-batches are whole groups), trimmed to the
        # longest completion in quarters of max_new_tokens (at most 4 compiled shapes).
        batch = grpo_train.update_batch(ro, adv, mask_truncated=gs.mask_truncated, share_prompt=True,
                                        bucket=-(-s.rollout.max_new_tokens // 4))
        dev = sharding.place_batch(mesh, batch)  # groups over (data, fsdp) when they divide
        if gs.beta:
          dev["ref_logp"] = logp_fn(ref_params, dev)
        if gs.updates_per_step > 1:  # every update after the first is off-policy: its ratios need the sampler's logp
          dev["old_logp"] = dev["sample_logp"] if gs.old_logp == "sampler" else logp_fn(state.params, dev)
        rows_n = batch["advantages"].shape[0]  # prompt groups
        if rows_n % gs.mini_batches:
          raise ValueError(f"{rows_n} prompt groups do not split into config.grpo.mini_batches={gs.mini_batches}")
        order, updates = np.arange(rows_n), []
        for it in range(gs.num_iterations):
          if it:  # later passes see the mini-batches in a new order, as in PPO epochs
            order = np.random.default_rng([s.seed, step, it]).permutation(rows_n)
          for part in np.array_split(order, gs.mini_batches):
            state, m = step_fn(state, sharding.place_batch(mesh, jax.tree.map(lambda x: x[part], dev)))
            updates.append(run.bad_steps.check(step, m))
        # The step's train/* metrics average its updates (min / max metrics too: a mean of per-update extremes).
        metrics.update({f"train/{k}": float(np.mean(v)) for k, v in to_python(
            jax.tree.map(lambda *xs: jnp.stack(xs), *updates)).items()})
        metrics["train/skipped_updates"] = updates[-1]["skipped_updates"]  # a running total, not a per-update value
      metrics.update({f"rollout/{k}": v for k, v in extra_stats.items()})
      metrics["time/rollout_s"], metrics["time/step_s"] = t_rollout, time.perf_counter() - t0
      flat_steps = 0 if signal else flat_steps + 1
      if step % s.train.log_every == 0 or step == s.train.steps:
        progress.line(step, writer.write(step, metrics), **{"s/step": metrics["time/step_s"]})
      if s.train.samples_every and step % s.train.samples_every == 0 and ro is not None:
        common.write_samples(run.workdir / "rollouts.jsonl", ro, step)
      if s.train.max_flat_steps and flat_steps >= s.train.max_flat_steps:
        mean = metrics.get("rollout/reward_mean", float("nan"))
        raise NoLearningSignal(
            f"grpo: for {flat_steps} steps in a row every group's {g} rewards were equal (last reward mean "
            f"{mean:.3g}), so every advantage and every gradient was zero. Check that the rewards "
            f"{sorted(s.rewards)} can tell completions apart on this task and model (a reward that is always 0 or "
            f"always 1), read {run.workdir / 'rollouts.jsonl'}, or raise config.train.max_flat_steps")
      ckpt_extra = {"data": prompts.state(), "step": step, "flat_steps": flat_steps}
      if common.end_of_step(run, writer, progress, guard, step, state, ckpt_extra, run_eval):
        break
  run.checkpointer.close()
  writer.close()
  # With dynamic sampling the kept groups' reward is selected (never all right or all wrong): judge the drawn one.
  reward_key = "rollout/dynamic/drawn_reward_mean" if gs.dynamic_sampling else "rollout/reward_mean"
  return common.finish_run(run, state, step, progress, {"eval/pass@1": "higher", reward_key: "higher"},
                           updates=int(state.step))

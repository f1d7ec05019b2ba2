"""One GRPO step, phase by phase: r1jax vs TRL's GRPOTrainer vs tunix's GRPOLearner on the same checkpoint.

    .venv/bin/python -m benchmarks.grpo_step                         # both workloads, every installed engine
    .venv/bin/python -m benchmarks.grpo_step --workload long_prompt --rounds 5
    /path/to/peers-venv/bin/python -m benchmarks.grpo_step --engines r1jax,r1jax_plain,trl,tunix

Peers are optional: an engine whose package is missing is skipped with a message. They install into their own
environment (run the benchmark with its python, from the repository root). TRL comes with the `bench` extra;
google-tunix 0.1.7 pins safetensors<0.8, which transformers 5 cannot use, so it goes in without its pins:

    python3 -m venv peers && peers/bin/pip install -e ".[bench]" "torch==2.13.0"
    peers/bin/pip install --no-deps "google-tunix==0.1.7"
    peers/bin/pip install grain google-metrax "qwix>=0.1.6" jaxtyping kagglehub numba omegaconf perfetto \
        pylatexenc python-dotenv sentencepiece tensorflow_datasets tenacity fsspec importlib_resources pillow

Workloads (`WORKLOADS`): the "small" benchmark checkpoint of `benchmarks/common.py` (2.9M-parameter Qwen2, written
by transformers, with r1jax's built-in character tokenizer beside it, so that every engine reads the same text as
the same ids) and

    shared        8 prompts of 16-48 tokens x G = 8 samples x 64 new tokens
    long_prompt   8 prompts of 256 tokens x G = 8 samples x 64 new tokens (the prompt dominates the update's work)

One step on every engine = sample G completions per prompt (temperature 1, no top-k / top-p, exactly 64 new tokens:
EOS never ends a completion), a rule reward on the text, group advantages (mean / std), reference log-probs (beta
0.04, k3 KL), then one optimizer update on the whole batch: loss "grpo" (per-sequence token mean, then mean over
sequences), epsilon 0.2, one iteration (old log-probs = the policy's own, detached), AdamW (lr 1e-6, betas 0.9 /
0.999, eps 1e-8, no weight decay), gradient clipping at norm 1, float32 everywhere, one device, no vLLM.

Settings that differ, because the engines differ:
  * r1jax blocks EOS by giving the sampler no EOS id (the token may be drawn, it ends nothing); TRL passes
    `min_new_tokens=64` to transformers' generate (EOS is never drawn); tunix gets an EOS id outside the
    vocabulary. tunix masks a completion token equal to its pad id (0) as padding, so a few of its tokens can
    drop out of the loss.
  * TRL's trainer runs transformers' eager PyTorch model (attention: SDPA); tunix its own Flax NNX Qwen2 and
    sampler; r1jax its jitted decoder. Each engine computes the policy entropy it logs by default.
  * tunix's KL term is its "kl" mode (the k3 estimator); its loss aggregation "sequence-mean-token-mean".

Phases: `rollout` = sampling (prefill + decode, up to host arrays), `reference` = the reference model's log-probs,
`update` = the rest of the step (reward, advantages, batch assembly, the policy's forward + backward and the
optimizer update). Steps run in interleaved rounds (one step of each engine per round, after an `--idle` pause) so
that load from other processes hits every engine alike; each figure is the median over rounds after one warm-up
step (which includes compilation). Ratios are peer time / r1jax time (> 1: r1jax is faster). `r1jax_plain` is
r1jax with each prompt repeated G times in the update (no shared prefix, no trimming), for reference.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import threading
import time
import types
from pathlib import Path

import numpy as np

from benchmarks.common import WORKLOADS, build_checkpoint, make_prompts

SMALL = WORKLOADS["small"]


@dataclasses.dataclass(frozen=True)
class StepWorkload:
  """A rollout batch shape on the small checkpoint."""

  name: str
  num_prompts: int
  num_samples: int
  max_new_tokens: int
  prompt_lengths: tuple[int, int]


WORKLOADS_GRPO = {
    "shared": StepWorkload("shared", 8, 8, 64, SMALL.prompt_lengths),
    "long_prompt": StepWorkload("long_prompt", 8, 8, 64, (256, 256)),
}
BETA, EPSILON, LEARNING_RATE, CLIP_NORM, BETAS, EPS = 0.04, 0.2, 1e-6, 1.0, (0.9, 0.999), 1e-8
PHASES = ("rollout", "reference", "update", "step")


def reward(completions: list[str]) -> list[float]:
  """A cheap deterministic rule reward on the text, so that groups have unequal rewards (never all-zero
  advantages)."""
  return [sum(map(ord, c)) % 7 / 7.0 for c in completions]


def prepare(workload: StepWorkload, ckpt_dir: Path):
  """Checkpoint (with the built-in tokenizer beside it) and prompt texts. -> (path, tokenizer, texts)."""
  from r1jax.tokenizer import build_builtin_tokenizer

  path = build_checkpoint(ckpt_dir / "small", "small")
  tokenizer = build_builtin_tokenizer(path)
  ids, mask = make_prompts(dataclasses.replace(SMALL, num_prompts=workload.num_prompts,
                                               prompt_lengths=workload.prompt_lengths))
  # BOS + the text of the character ids (>= 8): every engine tokenizes it back to the same ids (tunix, which puts
  # a BOS before every prompt, drops the repeated one).
  texts = [tokenizer.bos_token + tokenizer.decode([int(t) for t, m in zip(row, mrow) if m and t >= 8])
           for row, mrow in zip(ids, mask)]
  return path, tokenizer, texts


# ----------------------------------------------------------------------------------------------------- r1jax


class R1jaxEngine:
  """r1jax's GRPO step as `experiments/grpo.py` runs it, on host-tokenized prompts."""

  def __init__(self, path, tokenizer, texts, workload: StepWorkload, share_prompt: bool = True,
               micro_batches: int = 1):
    import jax
    import jax.numpy as jnp

    from r1jax import sharding
    from r1jax.models import hf as r1hf
    from r1jax.models import param_logical_axes
    from r1jax.sampling import SamplingConfig
    from r1jax.train import OptimizerConfig, make_optimizer, make_train_step, train_state_from_params
    from r1jax.train import grpo as grpo_train

    self.jax, self.workload, self.tokenizer, self.share_prompt = jax, workload, tokenizer, share_prompt
    self.cfg, params = r1hf.load_pretrained(path)
    enc = [tokenizer.encode(t) for t in texts]
    width = max(map(len, enc))
    self.ids = np.zeros((len(enc), width), np.int32)
    self.mask = np.zeros_like(self.ids)
    for i, row in enumerate(enc):
      self.ids[i, width - len(row):], self.mask[i, width - len(row):] = row, 1
    self.sc = SamplingConfig(max_new_tokens=workload.max_new_tokens, temperature=1.0,
                             num_samples=workload.num_samples, eos_ids=(), prompt_bucket=16)
    loss, knobs = grpo_train.resolve_loss("grpo", {"beta": BETA, "epsilon_low": EPSILON, "epsilon_high": EPSILON,
                                                   "kl_estimator": "k3", "importance_sampling": "token",
                                                   "max_tokens": workload.max_new_tokens})
    tx, schedule = make_optimizer(OptimizerConfig(learning_rate=LEARNING_RATE, schedule="constant", b1=BETAS[0],
                                                  b2=BETAS[1], eps=EPS, weight_decay=0.0, grad_clip_norm=CLIP_NORM))
    mesh = sharding.make_mesh()
    self.state, shardings = train_state_from_params(params, tx, mesh, param_logical_axes(self.cfg))
    self.ref_params = jax.tree.map(jnp.copy, self.state.params)
    self.step_fn = make_train_step(grpo_train.make_loss_fn(self.cfg, loss, knobs, temperature=1.0), tx,
                                   schedule=schedule, normalizer_fn=grpo_train.normalizer_fn(loss, knobs),
                                   num_micro_batches=micro_batches, state_shardings=shardings)
    self.logp_fn = jax.jit(lambda p, b: grpo_train.completion_logprobs(self.cfg, p, b, 1.0, 128))
    self.grpo_train = grpo_train
    self.calls = 0

  def step(self) -> dict[str, float]:
    from r1jax.losses import grpo
    from r1jax.sampling import decode_completions, generate

    jax, g = self.jax, self.workload.num_samples
    self.calls += 1
    t0 = time.perf_counter()
    sample = jax.device_get(generate(self.cfg, self.state.params, self.ids, self.mask, self.sc,
                                     jax.random.PRNGKey(self.calls)))
    t1 = time.perf_counter()
    rewards = np.asarray(reward(decode_completions(self.tokenizer, sample.tokens, sample.mask)), np.float32)
    adv = np.asarray(grpo.advantages("grpo", rewards, g))
    ro = types.SimpleNamespace(group_size=g, sample=sample, prompt_ids=self.ids, prompt_mask=self.mask)
    batch = self.grpo_train.update_batch(ro, adv, share_prompt=self.share_prompt,
                                         bucket=-(-self.workload.max_new_tokens // 4) if self.share_prompt else None)
    dev = jax.device_put(batch)
    t2 = time.perf_counter()
    dev["ref_logp"] = jax.block_until_ready(self.logp_fn(self.ref_params, dev))
    t3 = time.perf_counter()
    self.state, metrics = self.step_fn(self.state, dev)
    self.loss = float(metrics["loss"])
    jax.block_until_ready(self.state)
    t4 = time.perf_counter()
    return {"rollout": t1 - t0, "reference": t3 - t2, "update": (t2 - t1) + (t4 - t3), "step": t4 - t0}


# ----------------------------------------------------------------------------------------------------- peers


class _Gate:
  """Runs a peer's own training loop in a thread, one step at a time: the loop calls `wait()` where a step begins
  (and so where the previous one has ended); `step()` lets one step through and returns its wall time."""

  class Closed(Exception):
    """Raised inside the peer's loop by `wait()` after `close()`, so that the loop (and its threads) unwind."""

  def __init__(self, target):
    self._go, self._arrived = threading.Semaphore(0), threading.Semaphore(0)
    self.phases: dict[str, float] = {}
    self.error: BaseException | None = None
    self._closed = False

    def run():
      try:
        target()
      except _Gate.Closed:
        pass
      except BaseException as e:  # reported by the next step() call
        self.error = e
        self._arrived.release()

    self._thread = threading.Thread(target=run, daemon=True)
    self._thread.start()

  def wait(self):
    self._arrived.release()
    self._go.acquire()
    if self._closed:
      raise _Gate.Closed()

  def close(self, timeout: float = 60):
    """End the peer's loop at its next step."""
    self._closed = True
    self._go.release()
    self._thread.join(timeout)

  def arrived(self, timeout: float = 3600):
    if not self._arrived.acquire(timeout=timeout) or self.error:
      raise RuntimeError("the peer's training loop stopped") from self.error

  def step(self) -> dict[str, float]:
    self.phases = {"rollout": 0.0, "reference": 0.0}
    start = time.perf_counter()
    self._go.release()
    self.arrived()
    total = time.perf_counter() - start
    rollout, reference = self.phases["rollout"], self.phases["reference"]
    return {"rollout": rollout, "reference": reference, "update": total - rollout - reference, "step": total}

  def timed(self, phase: str, fn, sync=lambda out: out):
    """fn wrapped so that its wall time (until `sync(result)` returns) counts towards `phase`."""
    def wrapper(*args, **kwargs):
      start = time.perf_counter()
      out = sync(fn(*args, **kwargs))
      self.phases[phase] = self.phases.get(phase, 0.0) + time.perf_counter() - start
      return out
    return wrapper


def trl_engine(path, tokenizer, texts, workload: StepWorkload, threads: int | None):
  """TRL's GRPOTrainer on the workload, stepping through `_Gate`. None when TRL is not installed."""
  try:
    import datasets
    import torch
    import transformers
    import trl
  except ImportError as e:
    print(f"trl: skipped ({e.name} is not installed; see the module docstring)")
    return None
  if threads:
    torch.set_num_threads(threads)
  n = workload.num_prompts * workload.num_samples
  args = trl.GRPOConfig(
      output_dir=tempfile.mkdtemp(prefix="r1jax-bench-trl-"), per_device_train_batch_size=n,
      gradient_accumulation_steps=1, steps_per_generation=1, num_generations=workload.num_samples,
      max_completion_length=workload.max_new_tokens, temperature=1.0, top_p=1.0, top_k=0,
      generation_kwargs={"min_new_tokens": workload.max_new_tokens}, beta=BETA, epsilon=EPSILON,
      num_iterations=1, loss_type="grpo", scale_rewards="group", learning_rate=LEARNING_RATE,
      lr_scheduler_type="constant", adam_beta1=BETAS[0], adam_beta2=BETAS[1], adam_epsilon=EPS, weight_decay=0.0,
      max_grad_norm=CLIP_NORM, max_steps=10**6, bf16=False, fp16=False, use_cpu=True, use_vllm=False,
      shuffle_dataset=False, logging_steps=10**6, report_to="none", save_strategy="no", disable_tqdm=True,
      gradient_checkpointing=False, log_completions=False, seed=0)
  model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
  dataset = datasets.Dataset.from_dict({"prompt": list(texts)})
  trainer = trl.GRPOTrainer(model=model, reward_funcs=lambda completions, **_: reward(completions), args=args,
                            train_dataset=dataset, processing_class=tokenizer)
  holder = {}

  class GateCallback(transformers.TrainerCallback):
    def on_step_begin(self, *_, **__):
      holder["gate"].wait()

  trainer.add_callback(GateCallback())
  gate = _Gate(trainer.train)
  holder["gate"] = gate
  trainer._generate = gate.timed("rollout", trainer._generate)
  per_token_logps = trainer._get_per_token_logps_and_entropies

  def logps(model, *args, **kwargs):
    if model is trainer.ref_model:
      return gate.timed("reference", per_token_logps)(model, *args, **kwargs)
    return per_token_logps(model, *args, **kwargs)

  trainer._get_per_token_logps_and_entropies = logps
  gate.arrived()  # the loop is set up and waits at its first step
  return gate


def tunix_engine(path, tokenizer, texts, workload: StepWorkload):
  """tunix's GRPOLearner (vanilla rollout) on the workload, stepping through `_Gate`. None when not installed."""
  try:
    import jax
    import optax
    from flax import nnx
    from tunix.models.qwen2 import model as qwen2_model
    from tunix.models.qwen2 import params as qwen2_params
    from tunix.rl import rl_cluster as rl_cluster_lib
    from tunix.rl.grpo import grpo_learner
    from tunix.rl.rollout import base_rollout
  except ImportError as e:
    print(f"tunix: skipped ({e.name} is not installed; see the module docstring)")
    return None
  m = SMALL.model
  mcfg = qwen2_model.ModelConfig(num_layers=m["num_hidden_layers"], vocab_size=m["vocab_size"],
                                 embed_dim=m["hidden_size"], hidden_dim=m["intermediate_size"],
                                 num_heads=m["num_attention_heads"], num_kv_heads=m["num_key_value_heads"],
                                 head_dim=m["hidden_size"] // m["num_attention_heads"], rope_theta=10000,
                                 norm_eps=1e-6, use_tied_embedding=True)
  mesh = jax.make_mesh((1, 1), ("fsdp", "tp"), axis_types=(jax.sharding.AxisType.Auto,) * 2)
  actor = qwen2_params.create_model_from_safe_tensors(str(path), mcfg, mesh)
  reference = qwen2_params.create_model_from_safe_tensors(str(path), mcfg, mesh)
  prompt_len = max(len(tokenizer.encode(t)) for t in texts)
  optimizer = optax.chain(optax.clip_by_global_norm(CLIP_NORM),
                          optax.adamw(LEARNING_RATE, b1=BETAS[0], b2=BETAS[1], eps=EPS, weight_decay=0.0))
  cluster = rl_cluster_lib.RLCluster(
      actor=actor, reference=reference, tokenizer=tokenizer,
      cluster_config=rl_cluster_lib.ClusterConfig(
          role_to_mesh={rl_cluster_lib.Role.ACTOR: mesh, rl_cluster_lib.Role.REFERENCE: mesh,
                        rl_cluster_lib.Role.ROLLOUT: mesh},
          rollout_engine="vanilla", offload_to_cpu=False,
          training_config=rl_cluster_lib.RLTrainingConfig(actor_optimizer=optimizer, eval_every_n_steps=10**9,
                                                          max_steps=10**6),
          rollout_config=base_rollout.RolloutConfig(
              max_tokens_to_generate=workload.max_new_tokens, max_prompt_length=prompt_len,
              kv_cache_size=prompt_len + workload.max_new_tokens, temperature=1.0, top_p=1.0, top_k=None,
              eos_tokens=[m["vocab_size"] + 1])))
  learner = grpo_learner.GRPOLearner(
      rl_cluster=cluster, reward_fns=lambda prompts, completions, **_: reward(completions),
      algo_config=grpo_learner.GRPOConfig(num_generations=workload.num_samples, num_iterations=1, beta=BETA,
                                          epsilon=EPSILON, loss_algo="grpo"))
  holder = {}

  def batches():  # a batch of prompts is an array, as grain's batching makes it
    yield {"prompts": np.asarray(texts)}  # read by the learner's setup; the first step runs ungated (the warm-up)
    while True:
      holder["gate"].wait()
      yield {"prompts": np.asarray(texts)}

  gate = _Gate(lambda: learner.train(batches()))
  holder["gate"] = gate
  cluster.generate = gate.timed("rollout", cluster.generate)
  cluster.get_ref_per_token_logps = gate.timed("reference", cluster.get_ref_per_token_logps, jax.block_until_ready)
  cluster.update_actor = gate.timed("update_actor", cluster.update_actor,  # synced, so the step ends with it
                                    lambda out: (jax.block_until_ready(nnx.state(actor)), out)[1])
  gate.arrived()  # the warm-up step (compilation) has run; the loop waits before its second
  return gate


# ----------------------------------------------------------------------------------------------------- driver


def run_workload(workload: StepWorkload, engines: list[str], rounds: int, idle: float, ckpt_dir: Path,
                 torch_threads: int | None, micro_batches: int = 1) -> dict:
  path, tokenizer, texts = prepare(workload, ckpt_dir)
  steps = {}
  for name in engines:
    start = time.perf_counter()
    if name in ("r1jax", "r1jax_plain"):
      engine = R1jaxEngine(path, tokenizer, texts, workload, share_prompt=name == "r1jax",
                           micro_batches=micro_batches)
      engine.step()  # warm-up: compiles
      steps[name] = engine.step
    elif name == "trl":
      gate = trl_engine(path, tokenizer, texts, workload, torch_threads)
      if gate is not None:
        gate.step()  # warm-up
        steps[name] = gate.step
    elif name == "tunix":
      gate = tunix_engine(path, tokenizer, texts, workload)
      if gate is not None:
        steps[name] = gate.step
    else:
      raise ValueError(f"unknown engine {name!r}; valid: r1jax, r1jax_plain, trl, tunix")
    if name in steps:
      print(f"  {name}: set up and warmed up in {time.perf_counter() - start:.1f} s", flush=True)
  times = {name: [] for name in steps}
  for _ in range(rounds):
    for name, step in steps.items():
      time.sleep(idle)
      times[name].append(step())
  for step in steps.values():
    if isinstance(getattr(step, "__self__", None), _Gate):
      step.__self__.close()
  return {name: {ph: statistics.median(t[ph] for t in ts) for ph in PHASES} for name, ts in times.items()}


def print_table(workload: StepWorkload, res: dict) -> None:
  print(f"{workload.name}: {workload.num_prompts} prompts of {workload.prompt_lengths[0]}-{workload.prompt_lengths[1]}"
        f" tokens x G={workload.num_samples} x {workload.max_new_tokens} new tokens (median seconds)")
  print(f"  {'engine':12s}" + "".join(f"{ph:>11s}" for ph in PHASES) + "   ratio vs r1jax (step; phases)")
  base = res.get("r1jax")
  for name, r in res.items():
    line = f"  {name:12s}" + "".join(f"{r[ph]:11.3f}" for ph in PHASES)
    if base and name != "r1jax":
      line += f"   {r['step'] / base['step']:.2f}x; " + " ".join(
          f"{ph} {r[ph] / base[ph]:.2f}x" for ph in PHASES[:3] if base[ph] > 0 and r[ph] > 0)
    print(line, flush=True)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--workload", choices=[*WORKLOADS_GRPO, "all"], default="all")
  parser.add_argument("--engines", default="r1jax,r1jax_plain,trl,tunix", help="comma-separated engines to run")
  parser.add_argument("--rounds", type=int, default=3, help="timed steps per engine, interleaved (median)")
  parser.add_argument("--idle", type=float, default=0.5,
                      help="seconds of rest before each timed step, so that one engine's spinning worker threads "
                           "are asleep before the next engine's step")
  parser.add_argument("--torch-threads", type=int, help="torch intra-op threads for TRL (default: torch's)")
  parser.add_argument("--micro-batches", type=int, default=1,
                      help="r1jax's update in this many sequential slices of whole prompt groups (grpo.micro_batches; "
                           "the same gradients): on CPU, slices of two groups keep XLA's temporaries small")
  parser.add_argument("--ckpt-dir", type=Path, default=Path("/tmp/r1jax-bench"),
                      help="where the checkpoint is written (reused across runs)")
  args = parser.parse_args(argv)
  import jax

  print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}", flush=True)
  names = list(WORKLOADS_GRPO) if args.workload == "all" else [args.workload]
  results = {}
  for name in names:
    workload = WORKLOADS_GRPO[name]
    print(f"{name}:", flush=True)
    results[name] = run_workload(workload, args.engines.split(","), args.rounds, args.idle, args.ckpt_dir,
                                 args.torch_threads, args.micro_batches)
    print_table(workload, results[name])
  return results


if __name__ == "__main__":
  main()

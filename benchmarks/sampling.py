"""Rollout throughput: r1jax `generate` vs transformers `generate` (PyTorch) on the same weights, in one process.

    .venv/bin/python -m benchmarks.sampling                      # both workloads on CPU
    .venv/bin/python -m benchmarks.sampling --workload small --repeats 5
    JAX_PLATFORMS=cuda .venv/bin/python -m benchmarks.sampling --hf-device cuda --workload medium

Both sides sample at temperature 1 with no top-k / top-p and exactly `max_new_tokens` new tokens per sequence
(EOS blocked: r1jax gets no EOS id, transformers gets `min_new_tokens`), in float32, from the same left-padded
prompts, `num_samples` sequences per prompt. Throughput counts generated tokens (prefill included in the time).
r1jax's first call is reported separately (trace + compile + one run); steady state is the median of the timed
runs, which alternate between the two engines so that load from other processes hits both alike. On a CPU shared
with other busy processes, torch's default OpenMP threads spin against them and its throughput collapses (10x and
more): there, `--hf-threads 1` gives the fair comparison.

`--floor` also times, in the same rounds, the matmuls that any sampler must run for the workload, alone in one
jitted fp32 loop (`matmul_floor_runner`): the prefill's projections for every real prompt token, then per decode
step every layer's q, k, v, o, gate, up, down projections and the LM head for all B*G rows, plus attention's two
products (q.k and p.v) over the keys a step must read: each layer's own keys, the prompt's once per group of G
samples, and on average half of the generated ones. The projections run both as separate products and with
those that read one input fused (x@[Wq|Wk|Wv], x@[Wg|Wu]); the faster of the two is the floor. That is the
fastest any fp32 XLA sampler could run the workload on this machine, and so the highest ratio any could reach;
"r1jax at X% of its floor" is floor time / r1jax time, the median over rounds of each round's own ratio (and so is
the ratio to transformers; see `paired_ratio`). (Until 2026-11-27 the floor timed the decode's weight
matmuls only, leaving out the prefill and the attention products, work the sampler cannot skip: it was not a floor
of the sampler's work but of a part of it. Until 2026-11-28 it timed the separate products only, and its decode
read one key / value buffer for every layer and the prompt's keys for every sample: the one buffer stays in the
CPU's caches, where a sampler reads each layer's own (17% slower on the small workload), and a sampler that
shares the prompt among its G samples reads the prompt's keys once per group.)
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path


from benchmarks.common import WORKLOADS, build_checkpoint, make_prompts, wall_time


def matmul_floor_runner(cfg, rows: int, steps: int, prompt_lengths, fused: bool = True):
  """A closure running only the matmuls a sampler cannot skip, in float32, inside one jitted program (random
  weights of the model's shapes):

      prefill  per layer x@Wq, x@Wk, x@Wv, x@Wo, x@Wg, x@Wu, h@Wd on [sum(prompt_lengths), E] (real tokens only)
      decode   `steps` x (per layer the same seven products on [rows, E], then q.k and p.v against the layer's own
               keys; then x@W_lm)

  `prompt_lengths` [B] are the real prompt lengths; rows = B * G. A decode step reads, per layer and KV head, the
  prompt's keys once per group of G rows (their mean number, as one [G * G_q, D] x [D, prompt] product per prompt)
  and each row's generated keys ((steps - 1) / 2 on average, one [G_q, D] x [D, generated] product per row), G_q
  query heads per KV head: the sampler's own batched form. Every layer has its own key / value buffers, as in a
  sampler (one buffer read by every layer would stay in the CPU's caches). No softmax, masking, RoPE, norms, cache
  writes or sampling are timed. With `fused` the projections that read one input run as one wide product each,
  x@[Wq|Wk|Wv] and x@[Wg|Wu] (as engines with fused weights do, and r1jax's decode step since 2026-11-28); without,
  as separate products (as r1jax's training forward does). The benchmark times both and takes the faster as the
  floor.
  """
  import jax
  import jax.numpy as jnp
  import numpy as np

  e, f, d = cfg.hidden_size, cfg.intermediate_size, cfg.head_dim
  kvh, groups = cfg.num_kv_heads, cfg.num_heads // cfg.num_kv_heads
  qd, kvd = cfg.num_heads * d, kvh * d
  if fused:
    shapes = dict(qkv=(e, qd + 2 * kvd), o=(qd, e), gu=(e, 2 * f), d=(f, e))
  else:
    shapes = dict(q=(e, qd), k=(e, kvd), v=(e, kvd), o=(qd, e), g=(e, f), u=(e, f), d=(f, e))
  prompts = len(prompt_lengths)
  group = rows // prompts
  prompt_keys = max(1, int(round(float(np.mean(prompt_lengths)))))
  generated_keys = max(1, int(round((steps - 1) / 2)))
  rng = iter(jax.random.split(jax.random.PRNGKey(0), 12 * cfg.num_layers + 1))
  normal = lambda shape: 0.02 * jax.random.normal(next(rng), shape)  # noqa: E731
  layers = [{n: normal(shp) for n, shp in shapes.items()} for _ in range(cfg.num_layers)]
  lm_head = normal((e, cfg.vocab_size))
  caches = [dict(k_prompt=normal((prompts, kvh, d, prompt_keys)), v_prompt=normal((prompts, kvh, prompt_keys, d)),
                 k=normal((rows, kvh, d, generated_keys)), v=normal((rows, kvh, generated_keys, d)))
            for _ in range(cfg.num_layers)]

  @jax.jit
  def loop(layers, lm_head, x, prompt_x, caches):
    def qkv(x, w):
      if not fused:
        return x @ w["q"], x @ w["k"], x @ w["v"]
      y = x @ w["qkv"]
      return y[:, :qd], y[:, qd:qd + kvd], y[:, qd + kvd:]

    def swiglu(x, w):
      if not fused:
        return (jax.nn.silu(x @ w["g"]) * (x @ w["u"])) @ w["d"]
      gate_up = x @ w["gu"]
      return (jax.nn.silu(gate_up[:, :f]) * gate_up[:, f:]) @ w["d"]

    for w in layers:  # the prefill: every real prompt token through every layer once
      q, k, v = qkv(prompt_x, w)
      prompt_x = prompt_x + (q + jnp.tile(k + v, (1, groups))) @ w["o"]  # keeps k, v live
      prompt_x = prompt_x + swiglu(prompt_x, w)
    x = x + 1e-3 * jnp.sum(prompt_x)

    def step(_, x):
      for w, c in zip(layers, caches):
        q, k, v = qkv(x, w)
        scores = jnp.einsum("bkgd,bkds->bkgs", q.reshape(rows, kvh, groups, d), c["k"])
        attn = jnp.einsum("bkgs,bksd->bkgd", scores, c["v"]).reshape(rows, -1)
        q_group = q.reshape(prompts, group, kvh, groups, d)
        scores_prompt = jnp.einsum("prkgd,pkds->pkrgs", q_group, c["k_prompt"])
        attn = attn + jnp.einsum("pkrgs,pksd->prkgd", scores_prompt, c["v_prompt"]).reshape(rows, -1)
        x = x + (attn + jnp.tile(k + v, (1, groups))) @ w["o"]
        x = x + swiglu(x, w)
      logits = x @ lm_head
      return x + 1e-3 * logits[:, :1]
    return jax.lax.fori_loop(0, steps, step, x)

  x = jnp.ones((rows, e), jnp.float32)
  prompt_x = jnp.ones((int(np.sum(prompt_lengths)), e), jnp.float32)
  jax.block_until_ready(loop(layers, lm_head, x, prompt_x, caches))  # compile
  return lambda: jax.block_until_ready(loop(layers, lm_head, x, prompt_x, caches))


def run_workload(workload, ckpt_dir: Path, repeats: int, hf: bool, hf_device: str, hf_threads: int | None,
                 floor: bool = False, decode_loops: int | None = None):
  """Time both engines (and, with `floor`, the matmul floor) on one workload. -> dict of results."""
  import jax

  from r1jax.models import hf as r1hf
  from r1jax.sampling import SamplingConfig, generate

  path = build_checkpoint(ckpt_dir / workload.name, workload)
  ids, mask = make_prompts(workload)
  n_tokens = workload.num_prompts * workload.num_samples * workload.max_new_tokens
  cfg, params = r1hf.load_pretrained(path)
  sc = SamplingConfig(max_new_tokens=workload.max_new_tokens, temperature=1.0, num_samples=workload.num_samples,
                      eos_ids=(), prompt_bucket=16)
  if decode_loops:
    sc = sc.replace(decode_loops=decode_loops)

  def r1jax_run(seed):
    out = generate(cfg, params, ids, mask, sc, jax.random.PRNGKey(seed))
    assert out.tokens.shape == (workload.num_prompts * workload.num_samples, workload.max_new_tokens)
    jax.block_until_ready(out)

  first = wall_time(lambda: r1jax_run(0))
  hf_run = _hf_runner(path, ids, mask, workload, hf_device, hf_threads) if hf else None
  if hf_run is not None:
    hf_run(0)  # warm-up (allocator, kernels)
  floor_runs = {fused: matmul_floor_runner(cfg, workload.num_prompts * workload.num_samples,
                                          workload.max_new_tokens, mask.sum(-1), fused=fused)
                for fused in (False, True)} if floor else {}
  r1_times, hf_times, floor_times = [], [], {fused: [] for fused in floor_runs}
  for r in range(repeats):
    r1_times.append(wall_time(lambda: r1jax_run(r + 1)))
    if hf_run is not None:
      hf_times.append(wall_time(lambda: hf_run(r + 1)))
    for fused, run in floor_runs.items():
      floor_times[fused].append(wall_time(run))
  r1_s = statistics.median(r1_times)
  res = {"workload": workload.name, "params": cfg.num_params(), "tokens": n_tokens, "r1jax_tok_s": n_tokens / r1_s,
         "r1jax_s": r1_s, "r1jax_first_call_s": first, "r1jax_compile_s": max(first - r1_s, 0.0),
         "device": str(jax.devices()[0].platform)}
  if hf_times:
    hf_s = statistics.median(hf_times)
    res.update(hf_tok_s=n_tokens / hf_s, hf_s=hf_s, ratio=paired_ratio(hf_times, r1_times))
  if floor_times:
    # The faster form of the products (separate or fused projections) is the floor.
    floor_s, floor_fused = min((statistics.median(t), fused) for fused, t in floor_times.items())
    fractions = [f / r for f, r in zip(floor_times[floor_fused], r1_times)]
    res.update(floor_tok_s=n_tokens / floor_s, floor_s=floor_s, floor_fraction=statistics.median(fractions),
               floor_fraction_range=(min(fractions), max(fractions)),
               floor_form="fused" if floor_fused else "separate")
    if hf_times:
      res.update(floor_ratio=paired_ratio(hf_times, floor_times[floor_fused]))
  return res


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
  """The median over rounds of numerator_r / denominator_r: two timings of one round ran back to back, so a
  machine whose speed drifts between rounds (as shared CPUs do, by up to 1.5x within minutes) moves both alike
  and the ratio of each pair stays, where a ratio of the two medians mixes rounds of different speeds."""
  return statistics.median(n / d for n, d in zip(numerators, denominators))


def _hf_runner(path, ids, mask, workload, device: str, threads: int | None):
  """A closure running transformers' sampling generate on the workload (or None without torch)."""
  try:
    import torch
    import transformers
  except ImportError:
    print("torch / transformers not installed: skipping the transformers side")
    return None
  if threads:
    torch.set_num_threads(threads)
  model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device).eval()
  input_ids = torch.tensor(ids, dtype=torch.long, device=device)
  attention_mask = torch.tensor(mask, dtype=torch.long, device=device)

  def run(seed):
    torch.manual_seed(seed)
    with torch.inference_mode():
      out = model.generate(input_ids=input_ids, attention_mask=attention_mask, do_sample=True, temperature=1.0,
                           top_k=0, top_p=1.0, max_new_tokens=workload.max_new_tokens,
                           min_new_tokens=workload.max_new_tokens, num_return_sequences=workload.num_samples,
                           pad_token_id=0)
    assert out.shape == (workload.num_prompts * workload.num_samples, ids.shape[1] + workload.max_new_tokens)
    if device != "cpu":
      torch.cuda.synchronize()

  return run


def _print_environment(args):
  import os

  import jax

  line = f"jax {jax.__version__} on {jax.devices()[0].device_kind} x{jax.device_count()}, {os.cpu_count()} CPUs"
  if not args.no_hf:
    try:
      import torch
      import transformers

      threads = args.hf_threads or torch.get_num_threads()
      line += f"; transformers {transformers.__version__}, torch {torch.__version__} ({threads} threads)"
    except ImportError:
      pass
  print(line, flush=True)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
  parser.add_argument("--repeats", type=int, default=3, help="timed runs per engine (median reported)")
  parser.add_argument("--num-prompts", type=int, help="override the workload's prompt count")
  parser.add_argument("--num-samples", type=int, help="override the workload's samples per prompt")
  parser.add_argument("--max-new-tokens", type=int, help="override the workload's new tokens per sample")
  parser.add_argument("--no-hf", action="store_true", help="time r1jax only")
  parser.add_argument("--floor", action="store_true", help="also time the decode's matmuls alone (see above)")
  parser.add_argument("--hf-device", default="cpu", help="torch device for transformers (cpu, cuda)")
  parser.add_argument("--hf-threads", type=int, help="torch intra-op threads (default: torch's own choice)")
  parser.add_argument("--decode-loops", type=int, help="r1jax's SamplingConfig.decode_loops (default: its default)")
  parser.add_argument("--ckpt-dir", type=Path, default=Path("/tmp/r1jax-bench"),
                      help="where the reference checkpoints are written (reused across runs)")
  args = parser.parse_args(argv)

  names = list(WORKLOADS) if args.workload == "all" else [args.workload]
  _print_environment(args)
  results = []
  for name in names:
    w = WORKLOADS[name]
    overrides = {k: v for k, v in (("num_prompts", args.num_prompts), ("num_samples", args.num_samples),
                                   ("max_new_tokens", args.max_new_tokens)) if v}
    w = dataclasses.replace(w, **overrides)
    res = run_workload(w, args.ckpt_dir, args.repeats, not args.no_hf, args.hf_device, args.hf_threads, args.floor,
                       args.decode_loops)
    results.append(res)
    line = (f"{name:7s} {res['params'] / 1e6:5.1f}M params  {w.num_prompts}x{w.num_samples} samples x "
            f"{w.max_new_tokens} tokens  r1jax {res['r1jax_tok_s']:7.0f} tok/s ({res['r1jax_s']:.3f} s; first call "
            f"{res['r1jax_first_call_s']:.1f} s = compile ~{res['r1jax_compile_s']:.1f} s + run)")
    if "hf_tok_s" in res:
      line += f"  transformers {res['hf_tok_s']:7.0f} tok/s ({res['hf_s']:.3f} s)  ratio {res['ratio']:.2f}x"
    if "floor_tok_s" in res:
      line += (f"\n{'':7s} matmul floor {res['floor_tok_s']:7.0f} tok/s ({res['floor_s']:.3f} s, "
               f"{res['floor_form']} projections): r1jax at {100 * res['floor_fraction']:.0f}% of its floor "
               f"(rounds {100 * res['floor_fraction_range'][0]:.0f}-{100 * res['floor_fraction_range'][1]:.0f}%)")
      if "floor_ratio" in res:
        line += f"  = {res['floor_ratio']:.2f}x transformers at most"
    print(line, flush=True)
  return results


if __name__ == "__main__":
  main()

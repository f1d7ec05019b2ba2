"""SFT train-step throughput and MFU: r1jax `make_train_step` vs a transformers + torch AdamW step, in one process.

    .venv/bin/python -m benchmarks.train_step                              # medium workload, 4 x 256 tokens, CPU
    .venv/bin/python -m benchmarks.train_step --batch-size 8 --seq-len 256 --steps 8
    .venv/bin/python -m benchmarks.train_step --hidden-size 768 --num-layers 6 --vocab-size 8192
    JAX_PLATFORMS=cuda .venv/bin/python -m benchmarks.train_step --torch-device cuda --batch-size 32 --seq-len 1024

The model is the shared "medium" workload of `benchmarks/common.py` (Qwen2: vocab 4096, hidden 512, 8 layers, 8
query heads on 2 KV heads of dim 64, intermediate 1536, tied embeddings, qkv bias; 26.2M parameters), written once
by transformers' `save_pretrained` and loaded by both sides, so both start from the same float32 weights. The
shape flags override single fields of it.

One step on each side: forward on [B, T] random tokens (all real, no padding), loss = token mean of the cross
entropy over all B*T next-token targets, backward, global-norm gradient clipping at 1.0, AdamW (lr 1e-4, betas
0.9/0.999, eps 1e-8, no weight decay, constant schedule). r1jax runs the trainers' own path (`make_optimizer`,
`train_state_from_params` on a `make_mesh` mesh, `sft.make_loss_fn`, `make_train_step` with the state donated);
the torch side is `AutoModelForCausalLM` (eager, transformers' default attention implementation, SDPA) +
`torch.optim.AdamW` + `clip_grad_norm_`. float32 matmuls run at full precision on both sides by default
(`--matmul-precision`; it matters on GPUs, where JAX would otherwise use TF32 and torch would not). Both train
on the same batch, so their losses must track each other step after step; the benchmark prints the first and last
losses of both as a check that the two steps compute the same thing.

Model FLOPs per step = `ModelConfig.flops_per_token(T) * B * T` (6 x matmul params + the causal attention term).
MFU divides the achieved FLOP/s by the peak of this machine, measured in the same run as the FLOP/s of a large
float32 `jnp.dot` (`--peak-size`, 2048 by default). Step times and peak repetitions are interleaved round by round
(r1jax step, torch step, dots), and each figure is the median over rounds, so load from other processes hits all
three alike; the best single dot is printed too. Each timed call starts after `--idle` seconds of rest, so that
the previous call's worker threads (OpenMP's spin for a while after torch's last parallel region) have gone to sleep
and do not take cores from the other side. Next to each wall time is the process CPU time (all threads) of the same
step, on a loaded machine a sign of how much of the wall time was waiting for a core, and its minor page faults.
r1jax's trace/lower and XLA compile times are reported apart from the step time.

The page faults tell the two runtimes apart on CPU: XLA:CPU allocates an execution's temporaries as one block
(~600 MB for the default workload), which glibc maps afresh and the kernel zeroes on every step (~150k faults of 4
KiB), while PyTorch's tensors are small blocks that glibc recycles.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import WORKLOADS, Workload, build_checkpoint, wall_time

SHAPE_FLAGS = {"vocab_size": "vocab_size", "hidden_size": "hidden_size", "intermediate_size": "intermediate_size",
               "num_layers": "num_hidden_layers", "num_heads": "num_attention_heads",
               "num_kv_heads": "num_key_value_heads"}
LEARNING_RATE, CLIP_NORM, BETAS, EPS = 1e-4, 1.0, (0.9, 0.999), 1e-8
# --matmul-precision -> (jax_default_matmul_precision, torch.set_float32_matmul_precision); None: library default.
PRECISIONS = {"highest": ("highest", "highest"), "tf32": ("tensorfloat32", "high"), "default": (None, None)}


def _timed(fn, times: list, cpu_times: list, faults: list) -> None:
  """Run fn, appending its wall time, the CPU time of the whole process (all threads, user + system) and the
  process's minor page faults during the call."""
  cpu, faulted = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  times.append(wall_time(fn))
  cpu_times.append(time.process_time() - cpu)
  faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faulted)


def make_workload(name: str, overrides: dict) -> Workload:
  """The named workload with model fields replaced (a changed shape gets its own checkpoint directory name)."""
  w = WORKLOADS[name]
  overrides = {SHAPE_FLAGS[k]: v for k, v in overrides.items() if v is not None}
  if not overrides:
    return w
  suffix = "-".join(f"{k}{v}" for k, v in sorted(overrides.items()))
  return dataclasses.replace(w, name=f"{name}-{suffix}", model={**w.model, **overrides})


def make_batch(vocab_size: int, batch_size: int, seq_len: int, seed: int = 0) -> dict[str, np.ndarray]:
  """Random token rows [B, T + 1] -> inputs [:, :-1], targets [:, 1:], every token real and a loss target."""
  rng = np.random.RandomState(seed)
  ids = rng.randint(8, vocab_size, size=(batch_size, seq_len + 1)).astype(np.int32)
  ones = np.ones((batch_size, seq_len), np.int32)
  return {"input_ids": ids[:, :-1], "attention_mask": ones, "targets": ids[:, 1:], "loss_mask": ones}


def jax_peak(size: int):
  """A closure timing one `size x size @ size x size` float32 jnp.dot. -> (run() -> seconds, FLOPs per run)."""
  import jax
  import jax.numpy as jnp

  ka, kb = jax.random.split(jax.random.PRNGKey(0))
  a = jax.random.normal(ka, (size, size), jnp.float32)
  b = jax.random.normal(kb, (size, size), jnp.float32)
  dot = jax.jit(jnp.dot)
  jax.block_until_ready(dot(a, b))
  return (lambda: wall_time(lambda: jax.block_until_ready(dot(a, b)))), 2.0 * size ** 3


def jax_runner(path: Path, batch: dict, remat: str | None):
  """r1jax's SFT step on the checkpoint. -> (cfg, run() -> loss, compile timings dict)."""
  import jax

  from r1jax import sharding
  from r1jax.losses import sft
  from r1jax.models import hf as r1hf
  from r1jax.models import param_logical_axes
  from r1jax.train import OptimizerConfig, make_optimizer, make_train_step, train_state_from_params

  cfg, params = r1hf.load_pretrained(path)
  if remat:
    cfg = cfg.replace(remat=remat)
  mesh = sharding.make_mesh()
  tx, schedule = make_optimizer(OptimizerConfig(learning_rate=LEARNING_RATE, schedule="constant", b1=BETAS[0],
                                                b2=BETAS[1], eps=EPS, weight_decay=0.0, grad_clip_norm=CLIP_NORM))
  state, shardings = train_state_from_params(params, tx, mesh, param_logical_axes(cfg))
  batch_sh = jax.tree.map(lambda x: sharding.batch_sharding(mesh, np.ndim(x)), batch)
  step = make_train_step(sft.make_loss_fn(cfg), tx, schedule=schedule, normalizer_fn=sft.token_count,
                         state_shardings=shardings, batch_shardings=batch_sh)
  dev_batch = sharding.shard_batch(mesh, batch)
  start = time.perf_counter()
  lowered = step.lower(state, dev_batch)
  lowered_at = time.perf_counter()
  compiled = lowered.compile()
  timings = {"trace_s": lowered_at - start, "compile_s": time.perf_counter() - lowered_at}
  holder = {"state": state}

  def run() -> float:
    holder["state"], metrics = compiled(holder["state"], dev_batch)
    jax.block_until_ready((holder["state"], metrics))
    return float(metrics["loss"])

  return cfg, run, timings


def torch_runner(path: Path, batch: dict, device: str, threads: int | None, attn: str | None, fused: bool,
                 precision: str):
  """The same step in PyTorch: transformers model + AdamW + clip_grad_norm_. -> (run() -> loss, attention impl)."""
  import torch
  import transformers

  if threads:
    torch.set_num_threads(threads)
  if PRECISIONS[precision][1]:
    torch.set_float32_matmul_precision(PRECISIONS[precision][1])
  kwargs = {"attn_implementation": attn} if attn else {}
  model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs).to(device).train()
  opt_kwargs = {"fused": True} if fused else {}
  opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, betas=BETAS, eps=EPS, weight_decay=0.0,
                          **opt_kwargs)
  input_ids = torch.tensor(batch["input_ids"], dtype=torch.long, device=device)
  attention_mask = torch.tensor(batch["attention_mask"], dtype=torch.long, device=device)
  targets = torch.tensor(batch["targets"], dtype=torch.long, device=device).reshape(-1)
  sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

  def run() -> float:
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
    opt.step()
    opt.zero_grad(set_to_none=True)
    value = float(loss.detach())  # also waits for the step on an accelerator
    sync()
    return value

  return run, model.config._attn_implementation


def torch_peak_gflops(size: int, device: str, reps: int = 3) -> float:
  """Best FLOP/s of torch's own float32 `size x size` matmul (for reference; MFU uses the jnp.dot peak)."""
  import torch

  a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
  sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
  a @ b
  sync()
  times = []
  for _ in range(reps):
    start = time.perf_counter()
    a @ b
    sync()
    times.append(time.perf_counter() - start)
  return 2.0 * size ** 3 / min(times) / 1e9


def run(args) -> dict:
  """Build, compile, warm up, then time `args.steps` rounds of (r1jax step, torch step, peak dots)."""
  import jax

  if PRECISIONS[args.matmul_precision][0]:
    jax.config.update("jax_default_matmul_precision", PRECISIONS[args.matmul_precision][0])
  w = make_workload(args.workload, {k: getattr(args, k) for k in SHAPE_FLAGS})
  path = build_checkpoint(args.ckpt_dir / w.name, w)
  batch = make_batch(w.model["vocab_size"], args.batch_size, args.seq_len)
  tokens = args.batch_size * args.seq_len

  peak_run, peak_flops = jax_peak(args.peak_size)
  start = time.perf_counter()
  cfg, jax_run, timings = jax_runner(path, batch, args.remat)
  jax_losses = [jax_run()]
  timings["first_step_s"] = time.perf_counter() - start
  torch_run = torch_attn = None
  if not args.no_torch:
    torch_run, torch_attn = torch_runner(path, batch, args.torch_device, args.torch_threads, args.torch_attn,
                                         args.torch_fused, args.matmul_precision)
  torch_losses = [torch_run()] if torch_run else []  # warm-up (allocator, kernels)

  jax_times, jax_cpu, jax_faults, torch_times, torch_cpu, torch_faults = [], [], [], [], [], []
  peak_times, all_peaks = [], []
  for _ in range(args.steps):
    time.sleep(args.idle)
    _timed(lambda: jax_losses.append(jax_run()), jax_times, jax_cpu, jax_faults)
    if torch_run:
      time.sleep(args.idle)
      _timed(lambda: torch_losses.append(torch_run()), torch_times, torch_cpu, torch_faults)
    time.sleep(args.idle)
    round_peaks = [peak_run() for _ in range(args.peak_reps)]
    peak_times.append(statistics.median(round_peaks))
    all_peaks.extend(round_peaks)

  flops_step = cfg.flops_per_token(args.seq_len) * tokens
  peak = peak_flops / statistics.median(peak_times)
  jax_s = statistics.median(jax_times)
  res = {"workload": w.name, "params": cfg.num_params(), "tokens": tokens, "flops_per_step": flops_step,
         "peak_gflops": peak / 1e9, "best_peak_gflops": peak_flops / min(all_peaks) / 1e9, "jax_s": jax_s,
         "jax_tok_s": tokens / jax_s, "jax_cpu_s": statistics.median(jax_cpu),
         "jax_faults": statistics.median(jax_faults), "jax_mfu": flops_step / jax_s / peak,
         "jax_losses": jax_losses, "device": str(jax.devices()[0].platform), **timings}
  if torch_run:
    torch_s = statistics.median(torch_times)
    res.update(torch_s=torch_s, torch_tok_s=tokens / torch_s, torch_cpu_s=statistics.median(torch_cpu),
               torch_faults=statistics.median(torch_faults),
               torch_mfu=flops_step / torch_s / peak, ratio=torch_s / jax_s, torch_losses=torch_losses,
               torch_attn=torch_attn,
               torch_peak_gflops=torch_peak_gflops(args.peak_size, args.torch_device))
  return res


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--workload", choices=list(WORKLOADS), default="medium")
  for flag in SHAPE_FLAGS:
    parser.add_argument(f"--{flag.replace('_', '-')}", type=int, help="override the workload's model shape")
  parser.add_argument("--batch-size", type=int, default=4, help="rows per step")
  parser.add_argument("--seq-len", type=int, default=256, help="tokens per row")
  parser.add_argument("--steps", type=int, default=3, help="timed steps per side, after one warm-up (median)")
  parser.add_argument("--remat", choices=["none", "full", "dots", "dots_with_no_batch_dims"],
                      help="r1jax rematerialization policy (default: the checkpoint config's, none)")
  parser.add_argument("--peak-size", type=int, default=2048, help="square jnp.dot size of the peak measurement")
  parser.add_argument("--peak-reps", type=int, default=3, help="peak dots per round (median)")
  parser.add_argument("--matmul-precision", choices=list(PRECISIONS), default="highest",
                      help="float32 matmul precision on both sides (tf32: TensorFloat-32 on GPUs)")
  parser.add_argument("--no-torch", action="store_true", help="time r1jax only")
  parser.add_argument("--torch-device", default="cpu", help="torch device (cpu, cuda)")
  parser.add_argument("--torch-threads", type=int, help="torch intra-op threads (default: torch's own choice)")
  parser.add_argument("--torch-attn", help="transformers attn_implementation (default: transformers' choice)")
  parser.add_argument("--torch-fused", action="store_true", help="torch.optim.AdamW(fused=True)")
  parser.add_argument("--idle", type=float, default=0.5,
                      help="seconds of idle before each timed call, so that one side's spinning worker threads "
                           "(OpenMP's, Eigen's) are asleep before the other side's step starts")
  parser.add_argument("--ckpt-dir", type=Path, default=Path("/tmp/r1jax-bench"),
                      help="where the reference checkpoints are written (reused across runs)")
  args = parser.parse_args(argv)

  res = run(args)
  print(f"{res['workload']} {res['params'] / 1e6:.1f}M params  {args.batch_size}x{args.seq_len} tokens/step  "
        f"{res['flops_per_step'] / 1e9:.1f} GFLOP/step  device {res['device']}")
  print(f"peak    {res['peak_gflops']:8.1f} GFLOP/s (median {args.peak_size}^3 fp32 jnp.dot; best "
        f"{res['best_peak_gflops']:.1f})" + (f"  torch matmul best {res['torch_peak_gflops']:.1f}"
                                             if "torch_peak_gflops" in res else ""))
  print(f"r1jax   {res['jax_tok_s']:8.0f} tok/s ({res['jax_s']:.3f} s/step, CPU {res['jax_cpu_s']:.2f} s, "
        f"{res['jax_faults']:.0f} page faults)  MFU "
        f"{100 * res['jax_mfu']:5.1f}%  trace {res['trace_s']:.1f} s  compile {res['compile_s']:.1f} s  first step "
        f"incl. setup {res['first_step_s']:.1f} s")
  if "torch_s" in res:
    print(f"torch   {res['torch_tok_s']:8.0f} tok/s ({res['torch_s']:.3f} s/step, CPU {res['torch_cpu_s']:.2f} s, "
          f"{res['torch_faults']:.0f} page faults)  MFU "
          f"{100 * res['torch_mfu']:5.1f}%  attention {res['torch_attn']}")
    print(f"ratio   {res['ratio']:.2f}x (torch step time / r1jax step time; > 1: r1jax is faster)")
    print(f"loss    r1jax {res['jax_losses'][0]:.5f} -> {res['jax_losses'][-1]:.5f}   torch "
          f"{res['torch_losses'][0]:.5f} -> {res['torch_losses'][-1]:.5f}   ({len(res['jax_losses'])} steps)")
  return res


if __name__ == "__main__":
  main()

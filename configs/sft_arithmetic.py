"""Cold-start SFT on the synthetic arithmetic task (reasoning traces in <think>…</think><answer>…</answer>).

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft
    python -m experiments.sft --config configs/sft_arithmetic.py:quick --workdir /tmp/sft_quick   # seconds
    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --config.train.steps=200 --workdir runs/x
    python -m experiments.sft --config configs/sft_arithmetic.py:mixture --workdir runs/sft_mixture

Variants: `tiny` learns 1-2 step problems on CPU in about 14 minutes (greedy pass@1 0.95 on the held-out
problems; at 400 steps it is still climbing, ~0.47); `quick` is the same file shrunk for tests;
`mixture` is `tiny` on a data mixture in R1's 3:1 proportion of reasoning to non-reasoning data: the traces, and
one-step problems answered directly (no <think>) in the chat format. Any task can be a source, e.g. a local chat
file of prompt / response rows (README, "SFT data mixtures").
Optimizer defaults follow common SFT practice for small models (AdamW, warmup + cosine, clip 1.0). Every key and
its meaning: r1jax.trainers.settings.SFTSettings.
"""

import ml_collections

from r1jax.trainers import settings

VARIANTS = ("tiny", "quick", "mixture")


def base_config() -> ml_collections.ConfigDict:
  """The tiny variant: a 4-layer, 128-wide model on 1-2 step single-digit problems."""
  c = settings.to_config(settings.SFTSettings())
  c.model.overrides = dict(hidden_size=128, intermediate_size=352, num_layers=4, num_heads=4, num_kv_heads=2)
  c.task.update(name="arithmetic", n_train=1500, n_test=64, template="r1_zero_short", max_prompt_len=48)
  c.task.knobs = dict(digits=1, steps=(1, 2), ops="+-")
  c.optimizer.update(learning_rate=3e-3, schedule="cosine", warmup_steps=20, min_lr_ratio=0.1, weight_decay=0.01,
                     b2=0.98)
  c.train.update(steps=1000, batch_size=32, max_len=96, log_every=10, eval_every=250, checkpoint_every=250)
  c.eval.update(num_prompts=64, num_samples=1, max_new_tokens=48, temperature=0.0, ks=(1,), heldout_batches=2)
  c.eval.rewards = dict(math_accuracy=1.0, think_answer=0.5)
  return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/sft_arithmetic.py; valid: {VARIANTS}")
  c = base_config()
  if variant == "quick":
    c.model.overrides = dict(hidden_size=64, intermediate_size=176, num_layers=2, num_heads=4, num_kv_heads=2)
    c.task.update(n_train=600, n_test=32)
    c.train.update(steps=150, batch_size=16, eval_every=150, checkpoint_every=50, log_every=10)
    c.optimizer.update(warmup_steps=10, learning_rate=5e-3)
    c.eval.update(num_prompts=32, max_new_tokens=40, heldout_batches=1)
  if variant == "mixture":
    # The task stays what the run evaluates on (sampled and scored); the sources are what it trains on.
    traces = dict(c.task.to_dict(), weight=0.75)
    direct = dict(c.task.to_dict(), weight=0.25, n_train=500, n_test=32, template="chat", completion_field="gold",
                  knobs=dict(digits=2, steps=(1, 1), ops="+-"))
    c.mixture = dict(traces=traces, direct=direct)
  return c

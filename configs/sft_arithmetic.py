"""Cold-start SFT on the synthetic arithmetic task (reasoning traces in <think>…</think><answer>…</answer>).

    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --workdir runs/sft_tiny
    python -m experiments.sft --config configs/sft_arithmetic.py:quick --workdir /tmp/sft_quick   # seconds
    python -m experiments.sft --config configs/sft_arithmetic.py:tiny --config.train.steps=200 --workdir runs/x

Variants: `tiny` learns 1-2 step problems on CPU in a few minutes; `quick` is the same file shrunk for tests.
Optimizer defaults follow common SFT practice for small models (AdamW, warmup + cosine, clip 1.0).
"""

import ml_collections

VARIANTS = ("tiny", "quick")


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.tokenizer = "builtin"
  c.model = ml_collections.ConfigDict(dict(
      preset="tiny", init_from="", param_dtype="float32", dtype="float32", remat="none",
      overrides=ml_collections.ConfigDict(dict(hidden_size=128, intermediate_size=352, num_layers=4, num_heads=4,
                                               num_kv_heads=2))))
  c.task = ml_collections.ConfigDict(dict(
      name="arithmetic", knobs=ml_collections.ConfigDict(dict(digits=1, steps=(1, 2), ops="+-")),
      n_train=1500, n_test=64, template="r1_zero_short", template_opts=ml_collections.ConfigDict(),
      max_prompt_len=48, completion_field="completion"))
  c.optimizer = ml_collections.ConfigDict(dict(
      learning_rate=3e-3, schedule="cosine", warmup_steps=20, total_steps=400, min_lr_ratio=0.1, weight_decay=0.01,
      b1=0.9, b2=0.98, eps=1e-8, grad_clip_norm=1.0))
  c.train = ml_collections.ConfigDict(dict(
      steps=400, batch_size=32, micro_batches=1, max_len=96, pack=False, log_every=10, eval_every=100,
      checkpoint_every=100, keep_checkpoints=2, export_hf=True))
  c.eval = ml_collections.ConfigDict(dict(
      num_prompts=64, num_samples=1, max_new_tokens=48, temperature=0.0, top_p=1.0, top_k=0, ks=(1,),
      rewards=ml_collections.ConfigDict(dict(math_accuracy=1.0, think_answer=0.5)), correct_reward="math_accuracy",
      heldout_batches=2))
  c.mesh = ml_collections.ConfigDict(dict(data=1, fsdp=-1, tensor=1, multihost=False))
  return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/sft_arithmetic.py; valid: {VARIANTS}")
  c = base_config()
  if variant == "quick":
    c.model.overrides.update(hidden_size=64, intermediate_size=176, num_layers=2)
    c.task.n_train, c.task.n_test = 600, 32
    c.train.update(steps=150, batch_size=16, eval_every=150, checkpoint_every=50, log_every=10)
    c.optimizer.update(total_steps=150, warmup_steps=10, learning_rate=5e-3)
    c.eval.update(num_prompts=32, max_new_tokens=40, heldout_batches=1)
  return c

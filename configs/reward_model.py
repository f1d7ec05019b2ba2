"""A Bradley-Terry reward model on preference pairs (the judge of R1's prompts that no rule can verify).

    python -m experiments.reward_model --config configs/reward_model.py:tiny --workdir runs/rm
    python -m experiments.reward_model --config configs/reward_model.py:quick --workdir /tmp/rm_quick   # ~1 minute
    python -m experiments.reward_model --config configs/reward_model.py:tiny --config.data.source=/data/prefs \
        --config.data.prompt_field=question --workdir runs/rm_file

Variants: `tiny` (the synthetic politeness preferences on CPU in a few minutes), `quick` (the same, shrunk for
tests). `data.source` is a synthetic set ("politeness") or local data with chosen / rejected columns (and a prompt
column, or `data.prompt_field=""` for whole conversations). The backbone starts from `model.init_from` (a causal
LM such as the SFT model: its weights are reused and the score head is new) or at random; the export under
<workdir>/hf is what GRPO's `reward_model` reward and the rejection-sampling judge load. Every key and its meaning:
r1jax.trainers.settings.RewardModelSettings.
"""

import ml_collections

from r1jax.trainers import settings

VARIANTS = ("tiny", "quick")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/reward_model.py; valid: {VARIANTS}")
  c = settings.to_config(settings.RewardModelSettings())
  c.model.overrides = dict(hidden_size=128, intermediate_size=352, num_layers=4, num_heads=4, num_kv_heads=2)
  c.data.update(source="politeness", n_train=4000, n_test=512, template="chat", max_len=112)
  c.loss.center_coef = 0.01
  c.optimizer.update(learning_rate=1e-3, schedule="cosine", warmup_steps=20, min_lr_ratio=0.1, weight_decay=0.01,
                     b2=0.98)
  c.train.update(steps=400, batch_size=32, log_every=10, eval_every=100, checkpoint_every=100)
  if variant == "quick":
    c.model.overrides = dict(hidden_size=64, intermediate_size=176, num_layers=2, num_heads=4, num_kv_heads=2)
    c.data.update(n_train=2000, n_test=256)
    c.train.update(steps=100, batch_size=16, eval_every=100, checkpoint_every=100)
    c.optimizer.update(warmup_steps=10, learning_rate=2e-3)
  return c

"""GRPO on prompts no rule can verify (the synthetic politeness requests), rewarded by a learnt reward model.

    python -m experiments.grpo --config configs/grpo_politeness.py:tiny --config.reward_model.path=runs/rm/hf \
        --config.model.init_from=runs/sft/hf --workdir runs/grpo_politeness
    python -m experiments.reward_model --config configs/reward_model.py:tiny --workdir runs/rm    # the model, first

The rewards route by the rows' "prompt_type" ("chat" for this task); on data that mixes task types, add a route
per type, e.g. {"math": {"math_accuracy": 1.0, "think_answer": 0.5}, "chat": {"reward_model": 1.0}}: R1's rule
rewards where a verifier exists, the reward model elsewhere. The reward model's score r becomes σ(r - offset), in
[0, 1] like the rule rewards; set reward_model.offset to the trainer's eval/score_mean. Variants: tiny, quick
(for tests; about three minutes on a 2-core CPU). Every key: r1jax.trainers.settings.GRPOSettings.
"""

import ml_collections

from configs import grpo_arithmetic

VARIANTS = ("tiny", "quick")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/grpo_politeness.py; valid: {VARIANTS}")
  c = grpo_arithmetic.get_config(variant)
  c.task.update(name="politeness", n_train=1500 if variant == "tiny" else 200, n_test=64, template="chat",
                max_prompt_len=64)
  c.task.knobs = {}
  c.rewards = {"by_prompt_type": {"chat": {"reward_model": 1.0}}, "type_field": "prompt_type"}
  c.reward_model.update(max_len=128, normalize="sigmoid")
  c.rollout.update(max_new_tokens=64)
  c.eval.update(max_new_tokens=64, correct_reward="reward_model", ks=(1,))
  c.eval.rewards = {"reward_model": 1.0}
  return c

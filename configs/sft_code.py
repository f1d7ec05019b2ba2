"""Cold-start SFT on the synthetic code task: words -> a small Python function, in <think>...</think><answer>...</answer>.

    python -m experiments.sft --config configs/sft_code.py:tiny --workdir runs/sft_code
    python -m experiments.sft --config configs/sft_code.py:quick --workdir /tmp/sft_code_quick   # a minute

Variants: `tiny` (the 4-layer 128-wide model of configs/sft_arithmetic.py) on 1-2 step `chain` functions;
`quick` is the same shrunk for tests. Evaluation runs each sampled answer against its row's tests in the sandbox
(reward `code_accuracy`), so eval/pass@1 is the share of programs that pass every test. Every key and its meaning:
r1jax.trainers.settings.SFTSettings.
"""

import ml_collections

from configs import sft_arithmetic

VARIANTS = ("tiny", "quick")
# 1-2 step chains over + - * with operands 1..9: 756 problems, 10% of them held out.
CODE_KNOBS = dict(kinds=("chain",), steps=(1, 2), ops="+-*", max_operand=9, num_tests=4)
CODE_REWARDS = dict(code_accuracy=1.0, think_answer=0.5)  # execution accuracy and DeepSeek-R1's format rule


def use_code_task(c: ml_collections.ConfigDict, variant: str) -> ml_collections.ConfigDict:
  """Point a trainer's config at the code task and judge its evaluation by execution (shared with grpo_code)."""
  c.task.update(name="code", template="r1_zero_short", max_prompt_len=64,
                **(dict(n_train=600, n_test=64) if variant == "tiny" else dict(n_train=300, n_test=32)))
  c.task.knobs = dict(CODE_KNOBS)
  c.eval.update(max_new_tokens=112, correct_reward="code_accuracy")
  c.eval.rewards = dict(CODE_REWARDS)
  return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "tiny"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/sft_code.py; valid: {VARIANTS}")
  c = use_code_task(sft_arithmetic.get_config(variant), variant)
  c.train.update(max_len=176)
  return c

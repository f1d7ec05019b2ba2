"""Evaluation settings: which task, how many prompts and samples, which rewards decide "correct".

    python -m experiments.evaluate --config configs/evaluate.py:arithmetic --config.checkpoint=runs/sft \
        --workdir runs/eval
    python -m experiments.evaluate --config configs/evaluate.py:countdown --config.checkpoint=runs/grpo_countdown \
        --workdir runs/eval_countdown
    python -m experiments.evaluate --config configs/evaluate.py:file --config.checkpoint=/ckpt/Qwen2.5-Math-1.5B \
        --config.tokenizer=/ckpt/Qwen2.5-Math-1.5B --config.task.knobs.path=/data/qa.jsonl --workdir runs/eval

Variants: arithmetic and countdown (the synthetic tasks, with the same prompts as their training configs), file (a
local question/answer file; set its path and fields under task.knobs). The file variant evaluates the whole file
(task.knobs.test_fraction=1.0 makes every row of a single file a test row; a directory keeps its own test file):
task.n_test=500 of its rows after a seeded shuffle. Set n_test to the file's row count to evaluate every row; an
n_test above it stops with an error (status 2) that gives the count. Every key:
r1jax.trainers.settings.EvaluateSettings.
"""

import ml_collections

from configs import grpo_arithmetic, grpo_countdown
from r1jax.trainers import settings

VARIANTS = ("arithmetic", "countdown", "file")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "arithmetic"
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r} of configs/evaluate.py; valid: {VARIANTS}")
  c = settings.to_config(settings.EvaluateSettings())
  c.checkpoint = "runs/sft"
  source = grpo_countdown.get_config("tiny") if variant == "countdown" else grpo_arithmetic.get_config("tiny")
  c.task = source.task
  c.eval = source.eval
  # 1-2 step single-digit arithmetic has ~190 distinct held-out problems; countdown has thousands.
  n = 128 if variant == "arithmetic" else 256
  c.eval.update(num_prompts=n, num_samples=4, ks=(1, 4))
  c.task.n_test = n
  if variant == "file":
    c.task.update(name="file", template="r1_zero", max_prompt_len=1024, n_test=500)
    # Evaluation only: the whole file is the test split, and every row loaded is evaluated.
    c.task.knobs = dict(path="/path/to/qa.jsonl", question_field="question", answer_field="answer",
                        answer_format="raw", test_fraction=1.0)
    c.eval.update(max_new_tokens=1024, num_prompts=c.task.n_test)
  return c

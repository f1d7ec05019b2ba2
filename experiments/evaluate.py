"""Evaluate any r1jax run or Hugging Face checkpoint on a task (or a local question/answer file).

    python -m experiments.evaluate --config configs/evaluate.py:arithmetic --config.checkpoint=runs/sft \
        --workdir runs/eval_sft
    python -m experiments.evaluate --config configs/evaluate.py:file --config.checkpoint=/ckpt/model \
        --config.task.knobs.path=/data/qa.jsonl --config.task.knobs.answer_field=answer --workdir runs/eval_file

Prints a table (pass@1 ± its standard error, pass@k, maj@k, format rate, lengths) and writes eval.md, eval.json
and eval_samples.jsonl to the workdir. Writes no checkpoint. The loop lives in r1jax.trainers.evaluate.
"""

from __future__ import annotations

from experiments import common
from r1jax.trainers import evaluate as evaluator
from r1jax.trainers import settings


def run(config, workdir) -> dict:
  """r1jax.trainers.evaluate.run on a ConfigDict or EvaluateSettings."""
  return evaluator.run(settings.parse(settings.EvaluateSettings, config), workdir)


if __name__ == "__main__":
  common.run_main(evaluator.run, settings.EvaluateSettings, "configs/evaluate.py[:variant]")

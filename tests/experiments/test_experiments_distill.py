"""Distillation end to end: from a trained teacher, the student's KD loss falls and its accuracy rises."""

import pytest

from configs import distill_arithmetic
from experiments import distill


@pytest.mark.slow
@pytest.mark.xdist_group("sft_quick")
def test_distillation_lowers_kd_and_raises_student_accuracy(sft_quick_run, tmp_path):
  c = distill_arithmetic.get_config("quick")
  c.train.eval_every = c.train.steps
  out = distill.train(c, tmp_path, teacher=(sft_quick_run["cfg"], sft_quick_run["params"]))
  first, last = out["first_eval"], out["last_eval"]
  assert last["eval/heldout_kd"] < 0.2 * first["eval/heldout_kd"]
  assert first["eval/pass@1"] == 0.0 and last["eval/pass@1"] > 0.0
  assert out["cfg"].hidden_size < sft_quick_run["cfg"].hidden_size  # a smaller student


def test_config_validation_names_the_source(tmp_path):
  c = distill_arithmetic.get_config("quick")
  c.distill.source = "teacher_logits"
  with pytest.raises(ValueError, match="teacher_samples"):
    distill.train(c, tmp_path, teacher=(None, None))


def test_on_policy_source_trains_on_the_students_own_samples(tmp_path):
  import jax

  from r1jax.models import get_config, init_params
  from r1jax.train import read_metrics

  c = distill_arithmetic.get_config("quick")
  c.distill.update(source="on_policy", lmbda=1.0, max_new_tokens=12)
  c.train.update(steps=3, eval_every=0, log_every=1, export_hf=False)
  teacher_cfg = get_config(c.model.preset, **c.model.overrides.to_dict())
  out = distill.train(c, tmp_path, teacher=(teacher_cfg, init_params(teacher_cfg, jax.random.PRNGKey(1))))
  rows = read_metrics(tmp_path / "metrics.jsonl")
  assert out["step"] == 3 and [r["train/on_policy"] for r in rows] == [1.0, 1.0, 1.0]
  assert all(r["train/kd_loss"] > 0 for r in rows)

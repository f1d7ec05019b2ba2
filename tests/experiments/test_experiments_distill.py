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

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


def test_a_training_time_budget_ends_distillation_complete_at_its_first_logged_step(tmp_path):
  import jax

  from r1jax.models import get_config, init_params

  c = distill_arithmetic.get_config("quick")
  c.train.update(steps=40, eval_every=0, log_every=2, export_hf=False, max_train_s=1e-9)
  teacher_cfg = get_config(c.model.preset, **c.model.overrides.to_dict())
  teacher = (teacher_cfg, init_params(teacher_cfg, jax.random.PRNGKey(1)))
  out = distill.train(c, tmp_path, teacher=teacher)
  assert out["step"] == 2 and out["complete"] and out["budget_reached"]
  assert distill.train(c, tmp_path, teacher=teacher)["step"] == 2  # spent: a rerun trains nothing more


def test_teacher_samples_filtered_by_a_verifier_keep_the_best_and_record_every_score(tmp_path):
  import json
  import math

  import jax

  from r1jax.checks import SettingsError
  from r1jax.models import get_config, hf, init_params
  from r1jax.tokenizer import load_tokenizer

  c = distill_arithmetic.get_config("quick")
  cfg = get_config(c.model.preset, **{**c.model.overrides.to_dict(), "num_layers": 1})
  judge_dir = tmp_path / "verifier"  # any causal-LM checkpoint with its tokenizer (random here)
  hf.save_pretrained(judge_dir, cfg.replace(eos_token_id=2, pad_token_id=0, bos_token_id=1),
                     init_params(cfg, jax.random.PRNGKey(2)))
  load_tokenizer("builtin").save_pretrained(judge_dir)
  c.task.n_train = 12
  c.distill.update(source="teacher_samples", samples_per_prompt=2, max_per_prompt=2, max_new_tokens=10,
                   prompts_per_draw=12)
  c.distill.rewards = {"think_answer": 1.0}
  c.distill.accept = {}  # no rule: the judge alone decides
  c.distill.judge.update(kind="verifier", path=str(judge_dir), top_fraction=0.5, batch_size=8, max_len=192)
  c.train.update(steps=1, eval_every=0, log_every=1, export_hf=False)
  out = distill.train(c, tmp_path / "run", teacher=(cfg, init_params(cfg, jax.random.PRNGKey(1))))
  rows = [json.loads(line) for line in (tmp_path / "run" / "teacher_samples.jsonl").read_text().splitlines()]
  scores = [r["judge_score"] for r in rows]
  assert len(rows) > 12 and all(0.0 < s < 1.0 for s in scores)  # every trace scored, a probability
  kept = [r for r in rows if r["judge_kept"]]
  assert len(kept) == math.ceil(0.5 * len(rows)) and min(r["judge_score"] for r in kept) >= max(
      r["judge_score"] for r in rows if not r["judge_kept"])  # the best half
  assert out["train_examples"] <= len(kept)
  c.distill.judge.kind = "oracle"
  with pytest.raises(SettingsError, match=r"config\.distill\.judge\.kind must be one of"):
    distill.train(c, tmp_path / "run2", teacher=(cfg, None))

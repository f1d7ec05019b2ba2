"""The R1 paper in miniature (what `make demo` runs), test-sized: every stage runs and the report is complete and
well formed (not that its numbers are good: the quick models are random-sized toys)."""

import json
import math

import pytest

from experiments import r1_tiny

FIELDS = ("pass@1", "pass@1_se", "completion_length", "params", "wall_s")


@pytest.mark.slow
def test_quick_pipeline_writes_a_complete_report(tmp_path):
  out = r1_tiny.run(tmp_path, quick=True, split="dev")
  saved = json.loads((tmp_path / "results.json").read_text())
  # The quick variant runs two rounds: round 2's SFT (on round 1's filtered GRPO samples) and GRPO come last.
  names = list(r1_tiny.STAGES) + ["sft_round2", "grpo_round2"]
  assert list(saved["stages"]) == names == list(out["results"])
  for name, stage in saved["stages"].items():
    for field in FIELDS:
      assert isinstance(stage[field], (int, float)) and math.isfinite(stage[field]), (name, field)
    assert 0.0 <= stage["pass@1"] <= 1.0 and stage["pass@1_se"] >= 0.0 and stage["params"] > 0
    assert set(stage["bands"]) == {"narrow", "hard"}
    for band in stage["bands"].values():
      assert {"pass@1", "pass@1_se", "pass@2", "maj@2", "greedy", "format_rate", "completion_length"} <= set(band)
  assert saved["stages"]["student_rl"]["params"] < saved["stages"]["grpo"]["params"]
  assert saved["stages"]["student_distill"]["params"] == saved["stages"]["student_rl"]["params"]
  assert saved["run"]["split"] == "dev" and saved["run"]["wall_s"] > 0 and saved["run"]["machine"]
  # The control and the distillation are sized by the measured times of what they are compared with.
  ledger = json.loads((tmp_path / "stages.json").read_text())
  assert ledger["sft_control"]["steps"] == ledger["sft_control"]["planned_steps"] >= 1
  assert ledger["student_distill"]["traces"]["kept"] >= 1
  report = (tmp_path / "results.md").read_text()
  assert "| claim (paper) | what we ran | measured | verdict |" in report
  assert ledger["sft_round2"]["traces"]["kept"] >= 1 and ledger["grpo_round2"]["steps"] >= 1
  assert len(saved["claims"]) == 8 and all(c["verdict"] for c in saved["claims"])
  assert "grpo_round2 − grpo" in saved["claims"][-1]["ran"]
  for name in names:
    assert f"| {name} |" in report
  for png in ("grpo_vs_control.png", "r1_zero.png", "stages.png"):
    assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
  # Running it again resumes every finished stage and evaluation and reports the same numbers.
  again = r1_tiny.run(tmp_path, quick=True, split="dev")
  assert again["results"]["grpo"]["pass@1"] == saved["stages"]["grpo"]["pass@1"]


def test_a_stage_stopped_by_sigterm_stops_the_pipeline(tmp_path, monkeypatch):
  from experiments import grpo, sft

  calls = []
  monkeypatch.setattr(sft, "train", lambda *a, **k: calls.append("sft") or {"complete": False, "step": 3})
  monkeypatch.setattr(grpo, "train", lambda *a, **k: calls.append("grpo"))
  assert r1_tiny.run(tmp_path, quick=True) == {"stopped": "base"} and calls == ["sft"]

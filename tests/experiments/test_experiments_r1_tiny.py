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
  # The control and the distillation get the measured training times of what they are compared with as budgets,
  # with room in steps (twice the steps expected at the measured SFT speed) to reach them.
  ledger = json.loads((tmp_path / "stages.json").read_text())
  for name, given in (("sft_control", "grpo"), ("student_distill", "student_rl")):
    assert ledger[name]["max_train_s"] == ledger[given]["train_s"] > 0
    assert 1 <= ledger[name]["steps"] <= 2 * ledger[name]["planned_steps"]
    summary = json.loads((tmp_path / name / "summary.json").read_text())
    # Ended on the budget (train_s past it by at most a logged window), or ran out of room before it.
    assert summary["complete"] and (summary.get("budget_reached") or ledger[name]["steps"] == 2 * ledger[name]["planned_steps"])
    if summary.get("budget_reached"):
      assert ledger[name]["train_s"] >= ledger[name]["max_train_s"]
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


def test_claims_give_each_band_its_verdict_when_the_bands_disagree():
  """A claim supported on one band and contradicted on the other must not read as supported."""
  from configs import r1_tiny as r1_config
  c = r1_config.get_config()
  n = 100

  def stage(narrow: float, hard: float, length: float = 10.0) -> dict:
    # Per-prompt pass rates alternate ±0.1 around the mean, so each difference has a known, nonzero spread.
    wobble = [0.1 if i % 2 else -0.1 for i in range(n)]
    return {"bands": {band: {"per_prompt_pass": [mean + w * (i % 3) for i, w in enumerate(wobble)],
                             "per_prompt_length": [length + i % 2 for i in range(n)]}
                      for band, mean in (("narrow", narrow), ("hard", hard))},
            "format_rate": 0.0, "train_s": 1.0}
  r = {"base": stage(0.5, 0.5), "sft": stage(0.5, 0.1), "grpo": stage(0.3, 0.4), "sft_control": stage(0.5, 0.4),
       "r1_zero": stage(0.5, 0.5, 20.0), "student_rl": stage(0.2, 0.2), "student_distill": stage(0.2, 0.2)}
  rows = {row["claim"].split(" (")[0]: row for row in r1_tiny.claims_rows(c, r)}
  gain = rows["RL after a cold start raises accuracy"]
  assert gain["band_verdicts"] == ["contradicted", "supported"]
  assert gain["verdict"].startswith("in-band (2-4 ops): contradicted; harder (5 ops): supported")
  assert gain["delta"] == pytest.approx(0.3) and gain["acceptance"]
  same = rows["Distilling the RL model beats RL on the smaller model"]
  assert same["band_verdicts"] == ["not resolved (within 3 SE)"] * 2 and same["verdict"] == "not resolved (within 3 SE)"

"""The whole recipe in miniature (what `make demo` runs, test-sized): every stage runs and reports."""

import pytest

from experiments import r1_tiny


@pytest.mark.slow
def test_pipeline_runs_every_stage_and_writes_its_report(tmp_path):
  out = r1_tiny.run(tmp_path, quick=True)
  assert list(out["results"]) == ["base", "sft", "grpo", "distill (student)"]
  res = out["results"]
  assert res["sft"]["eval/reward/think_answer"] > res["base"]["eval/reward/think_answer"]
  assert out["params"]["distill (student)"] < out["params"]["grpo"]
  for name in ("results.md", "results.json", "curves.png", "stages.png"):
    assert (tmp_path / name).stat().st_size > 0
  assert (tmp_path / "distill" / "teacher_samples.jsonl").exists()
  assert "| grpo |" in (tmp_path / "results.md").read_text()


def test_a_stage_stopped_by_sigterm_stops_the_pipeline(tmp_path, monkeypatch):
  from experiments import grpo, sft

  calls = []
  monkeypatch.setattr(sft, "train", lambda *a, **k: calls.append("sft") or {"complete": False, "step": 3})
  monkeypatch.setattr(grpo, "train", lambda *a, **k: calls.append("grpo"))
  assert r1_tiny.run(tmp_path, quick=True) == {"stopped": "sft"} and calls == ["sft"]

"""The smoke job (`make demo` until the full recipe exists) runs and checks itself."""

import json

from experiments import smoke


def test_smoke_job_round_trips_and_generates(tmp_path):
  report = smoke.main(["--workdir", str(tmp_path), "--new_tokens", "4"])
  assert report["roundtrip_max_abs_logit_diff"] == 0.0 and report["cache_matches_full_forward"]
  assert len(report["greedy_tokens"][0]) == 4
  assert json.loads((tmp_path / "smoke.json").read_text())["params"] == report["params"]
  assert (tmp_path / "hf_tiny" / "config.json").exists()

"""The test suite's own machinery: `--dist loadgroup` keeps an `xdist_group` on one worker with the installed pytest
and pytest-xdist, so a group's expensive shared fixture (the mesh runs, the real-scale dry runs) is built once."""

import os
import subprocess
import sys
import textwrap


GROUPED = textwrap.dedent("""
    import os
    import pytest

    @pytest.fixture(scope="module")
    def shared():
      with open(os.environ["SETUPS_FILE"], "a") as f:
        f.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")

    pytestmark = pytest.mark.xdist_group("shared")

    @pytest.mark.parametrize("run,reference", [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")])
    def test_grouped(shared, run, reference):
      pass
""")
LOOSE = textwrap.dedent("""
    import time
    import pytest

    @pytest.mark.parametrize("i", range(12))
    def test_loose(i):
      time.sleep(0.05)
""")


def test_an_xdist_group_runs_on_one_worker_and_builds_its_fixture_once(tmp_path):
  (tmp_path / "test_grouped.py").write_text(GROUPED)
  (tmp_path / "test_loose.py").write_text(LOOSE)
  setups = tmp_path / "setups.txt"
  # Run as the outer suite's worker or not, the inner run starts clean: its own controller and workers.
  env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS"))}
  env["SETUPS_FILE"] = str(setups)
  proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p",
                         "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  assert "16 passed" in proc.stdout, proc.stdout[-3000:]
  workers = setups.read_text().split()
  assert len(workers) == 1 and workers[0].startswith("gw"), workers  # one build, on an xdist worker

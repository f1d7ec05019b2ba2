"""The research notebooks run top to bottom, from the repo root, on the project's own Python."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
ipykernel_kernelspec = pytest.importorskip("ipykernel.kernelspec")


@pytest.fixture(scope="module")
def python3_kernel(tmp_path_factory):
  """A "python3" kernelspec that runs sys.executable, found first on JUPYTER_PATH: a python3 kernel installed for
  another interpreter (user or system dirs) must not run the notebooks."""
  prefix = tmp_path_factory.mktemp("kernels")
  mp = pytest.MonkeyPatch()
  mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
  ipykernel_kernelspec.install(kernel_name="python3", prefix=str(prefix))
  yield "python3"
  mp.undo()


def test_notebooks_are_stored_clean():
  assert NOTEBOOKS, "no notebooks/*.ipynb found"
  for path in NOTEBOOKS:
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3", path.name
    for cell in nb.cells:
      if cell.cell_type == "code":
        assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs stored in the file"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, python3_kernel):
  from jupyter_client.kernelspec import KernelSpecManager

  spec = KernelSpecManager().get_kernel_spec(python3_kernel)
  assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve(), spec.argv
  nb = nbformat.read(path, as_version=4)
  client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, startup_timeout=120, kernel_name=python3_kernel,
                                   resources={"metadata": {"path": str(ROOT)}})
  try:
    client.execute()
  except nbclient.exceptions.CellExecutionError as err:  # its text holds the cell's source and traceback
    pytest.fail(f"{path.name} failed:\n{ANSI_ESCAPE.sub('', str(err))}", pytrace=False)

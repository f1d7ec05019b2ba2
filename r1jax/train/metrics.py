"""Metric files (jsonl + TensorBoard) and a progress bar.

`metrics.jsonl` holds one JSON object per logged step: `{"step": 12, "loss": 1.3, ...}`. On resume, rows logged
after the restored step (by the run that was killed) are dropped, so the file always describes one trajectory.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
from tqdm import tqdm


def to_python(metrics: dict[str, Any]) -> dict[str, float]:
  """Device scalars -> Python floats (one transfer for the whole dict)."""
  host = jax.device_get(metrics)
  return {k: (float(np.asarray(v)) if np.ndim(v) == 0 else np.asarray(v).tolist()) for k, v in host.items()}


class MetricWriter:
  """Append metrics to `<workdir>/metrics.jsonl` and TensorBoard events under `<workdir>/tb`.

  In a multi-host run only process 0 writes; the others still turn metrics into Python values (`write` returns them).
  """

  def __init__(self, workdir: str | Path, start_step: int = 0, tensorboard: bool = True,
               filename: str = "metrics.jsonl"):
    self.workdir = Path(workdir)
    self.path = self.workdir / filename
    self._file = self._tb = None
    if jax.process_index() != 0:
      return
    self.workdir.mkdir(parents=True, exist_ok=True)
    if self.path.exists():
      kept = [line for line in self.path.read_text().splitlines()
              if line.strip() and json.loads(line).get("step", 0) <= start_step]
      self.path.write_text("".join(line + "\n" for line in kept))
    self._file = self.path.open("a")
    self._tb = None
    if tensorboard:
      from tensorboardX import SummaryWriter

      self._tb = SummaryWriter(str(self.workdir / "tb"), purge_step=start_step + 1 if start_step else None)

  def write(self, step: int, metrics: dict[str, Any]) -> dict[str, float]:
    row = to_python(metrics)
    if self._file is None:
      return row
    self._file.write(json.dumps({"step": int(step), **row}, allow_nan=True) + "\n")
    self._file.flush()
    if self._tb is not None:
      # Tags equal the jsonl keys ("eval/pass@1"): written as a Summary proto, because add_scalar rewrites every
      # character outside [-/\w.] (so "@" would become "_").
      from tensorboardX.proto.summary_pb2 import Summary

      values = [Summary.Value(tag=k, simple_value=v) for k, v in row.items()
                if isinstance(v, float) and math.isfinite(v)]
      if values:
        self._tb.file_writer.add_summary(Summary(value=values), int(step))
    return row

  def close(self) -> None:
    if self._file is not None:
      self._file.close()
    if self._tb is not None:
      self._tb.close()

  def __enter__(self) -> "MetricWriter":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
  """All rows of a metrics.jsonl file."""
  return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


class Progress:
  """tqdm bar over steps showing loss and throughput; `update(step, metrics, tokens)` once per step."""

  def __init__(self, total_steps: int, start_step: int = 0, desc: str = "train", disable: bool | None = None):
    self._bar = tqdm(total=total_steps, initial=start_step, desc=desc, dynamic_ncols=True, disable=disable)
    self._last = time.perf_counter()

  def update(self, metrics: dict[str, float] | None = None, tokens: int = 0) -> float:
    now = time.perf_counter()
    tokens_per_s = tokens / max(now - self._last, 1e-9)
    self._last = now
    postfix = {}
    if metrics:
      postfix = {k: f"{metrics[k]:.4g}" for k in ("loss", "reward_mean") if k in metrics}
    if tokens:
      postfix["tok/s"] = f"{tokens_per_s:.0f}"
    self._bar.set_postfix(postfix, refresh=False)
    self._bar.update(1)
    return tokens_per_s

  def close(self) -> None:
    self._bar.close()

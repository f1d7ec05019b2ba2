"""Metric files (jsonl + TensorBoard) and a progress bar.

`metrics.jsonl` holds one JSON object per logged step: `{"step": 12, "loss": 1.3, ...}`. Every log of a run is
keyed by step like this (`samples.jsonl`, `rollouts.jsonl`, `eval_samples.jsonl` too), and on resume each is cut
back to the steps the restored checkpoint covers (`trim_log`), so after any number of kills every log holds each
step exactly once and describes one trajectory. TensorBoard's events are rewritten from the kept rows.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
from tqdm import tqdm

log = logging.getLogger("r1jax")


def to_python(metrics: dict[str, Any]) -> dict[str, float]:
  """Device scalars -> Python floats (one transfer for the whole dict)."""
  host = jax.device_get(metrics)
  return {k: (float(np.asarray(v)) if np.ndim(v) == 0 else np.asarray(v).tolist()) for k, v in host.items()}


def trim_log(path: str | Path, start_step: int) -> list[dict[str, Any]]:
  """Cut a step-keyed jsonl log back to what a run starting at `start_step` will not write again; -> kept records.

  A run resumed from the checkpoint of step S > 0 repeats the steps after S, so records with step <= S stay. A run
  that starts from scratch (S = 0) repeats everything, the step-0 evaluation included, so nothing stays. A line that
  is not JSON (a kill tore the last write) is dropped. The file is replaced atomically.
  """
  path = Path(path)
  if not path.exists():
    return []
  kept, lines, torn = [], [], 0
  for line in path.read_text().splitlines():
    if not line.strip():
      continue
    try:
      record = json.loads(line)
    except json.JSONDecodeError:
      torn += 1
      continue
    if start_step and record.get("step", 0) <= start_step:
      kept.append(record)
      lines.append(line)
  if torn:
    log.warning("%s: dropped %d line(s) that are not JSON (a write cut short by a kill)", path, torn)
  tmp = path.with_name(path.name + ".tmp")
  tmp.write_text("".join(line + "\n" for line in lines))
  os.replace(tmp, path)
  return kept


def _summary_writer_class():
  """tensorboardX's `SummaryWriter`, imported without importing PyTorch.

  Where torch is installed, tensorboardX imports it at import time for a type annotation only: 2-4 s of start-up
  for every run on a 2-core machine. r1jax writes Summary protos and never hands
  tensorboardX a torch tensor, so torch is hidden while tensorboardX loads (`sys.modules["torch"] = None` makes
  `import torch` raise ImportError, which tensorboardX expects) and unhidden right after; a torch already imported
  is left alone, and importing torch later works as ever.
  """
  if "torch" not in sys.modules:
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
      from tensorboardX import SummaryWriter
    finally:
      del sys.modules["torch"]
  from tensorboardX import SummaryWriter

  return SummaryWriter


class MetricWriter:
  """Append metrics to `<workdir>/metrics.jsonl` and TensorBoard events under `<workdir>/tb`.

  `start_step` is the step the run resumes from (0: from scratch): the file keeps the rows of steps up to it (none
  from scratch, see `trim_log`) and the TensorBoard events are rewritten to hold exactly those rows.
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
    kept = trim_log(self.path, start_step)
    self._file = self.path.open("a")
    self._tb = None
    if tensorboard:
      SummaryWriter = _summary_writer_class()  # noqa: N806
      tb_dir = self.workdir / "tb"
      for old in tb_dir.glob("events.out.tfevents.*"):
        old.unlink()
      self._tb = SummaryWriter(str(tb_dir))
      for record in kept:
        self._add_summary(record.pop("step", 0), record)

  def _add_summary(self, step: int, row: dict[str, Any]) -> None:
    # Tags equal the jsonl keys ("eval/pass@1"): written as a Summary proto, because add_scalar rewrites every
    # character outside [-/\w.] (so "@" would become "_").
    from tensorboardX.proto.summary_pb2 import Summary

    values = [Summary.Value(tag=k, simple_value=v) for k, v in row.items() if isinstance(v, float) and math.isfinite(v)]
    if values:
      self._tb.file_writer.add_summary(Summary(value=values), int(step))

  def write(self, step: int, metrics: dict[str, Any]) -> dict[str, float]:
    row = to_python(metrics)
    if self._file is None:
      return row
    self._file.write(json.dumps({"step": int(step), **row}, allow_nan=True) + "\n")
    self._file.flush()
    if self._tb is not None:
      self._add_summary(step, row)
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

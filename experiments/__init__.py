"""Runnable jobs: each wires a configs/*.py file to r1jax library calls.

`python -m experiments.<trainer>` imports this package first, before jax and the rest: from that moment until the
trainer installs its own handling (r1jax.trainers.common.stoppable), and between the stages of a pipeline, a
SIGTERM ends the process at once with status 0 and a "stopped" line, as it would inside the trainer. Importing the
package from Python (tests, notebooks) or running another job changes no signal handling.
"""

import signal as _signal
import sys as _sys

TRAINING_JOBS = ("sft", "grpo", "distill", "r1_tiny")


def _job() -> str:
  """The job `python [options] -m experiments.<job>` runs, else ""."""
  argv = getattr(_sys, "orig_argv", [])
  if "-m" not in argv[:-1]:
    return ""
  module = argv[argv.index("-m") + 1]
  return module.split(".", 1)[1] if module.startswith("experiments.") else ""


def _stopped(signum, frame):
  print(f"{_job()} stopped by a termination signal (nothing in progress to save); run the same command again to "
        "resume", file=_sys.stderr, flush=True)
  raise SystemExit(0)


if _job() in TRAINING_JOBS:
  _signal.signal(_signal.SIGTERM, _stopped)

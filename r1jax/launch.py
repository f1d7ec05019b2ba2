"""Start a multi-process (multi-host) run on this machine: N copies of a command that find each other through
jax.distributed, each told its rank by environment variables.

    python -m r1jax.launch --processes 2 --cpu_devices 4 -- \
        python -m experiments.sft --config configs/sft_arithmetic.py:quick --config.mesh.multihost=true \
        --workdir runs/mh

Each process gets R1JAX_COORDINATOR (127.0.0.1 and a free port), R1JAX_NUM_PROCESSES and R1JAX_PROCESS_ID, which
`config.mesh.multihost=true` hands to jax.distributed.initialize() (r1jax.sharding.maybe_initialize_distributed).
`--cpu_devices K` gives each process K CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=K,
JAX_PLATFORMS=cpu) so a laptop rehearses a multi-host run; without it each process sees the accelerators it is
given. On a real cluster use its launcher instead (srun, a TPU pod's `--worker=all`): see the README.
If one process fails, the others are stopped; the exit status is the first failure's.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from r1jax.sharding import ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID


def free_port() -> int:
  """A TCP port on 127.0.0.1 that nothing listens on now."""
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def process_env(rank: int, processes: int, coordinator: str, cpu_devices: int = 0,
                base: dict[str, str] | None = None) -> dict[str, str]:
  """The environment of process `rank` of `processes`."""
  env = dict(os.environ if base is None else base)
  env.update({ENV_COORDINATOR: coordinator, ENV_NUM_PROCESSES: str(processes), ENV_PROCESS_ID: str(rank)})
  if cpu_devices:
    flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith("--xla_force_host_platform_device_count")]
    env["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={cpu_devices}"])
    env["JAX_PLATFORMS"] = "cpu"
  return env


def launch(command: Sequence[str], processes: int, cpu_devices: int = 0, timeout: float | None = None,
           env: dict[str, str] | None = None, log_dir: str | None = None) -> int:
  """Run `command` as `processes` cooperating processes; wait for all. -> 0, or the first non-zero exit status.

  log_dir: write process i's output to <log_dir>/process_<i>.log instead of this terminal.
  """
  if processes < 1:
    raise ValueError(f"processes must be >= 1, got {processes}")
  coordinator = f"127.0.0.1:{free_port()}"
  procs, logs = [], []
  for rank in range(processes):
    out = None
    if log_dir is not None:
      os.makedirs(log_dir, exist_ok=True)
      out = open(os.path.join(log_dir, f"process_{rank}.log"), "w")
      logs.append(out)
    procs.append(subprocess.Popen(list(command), env=process_env(rank, processes, coordinator, cpu_devices, env),
                                  stdout=out, stderr=subprocess.STDOUT if out else None))
  deadline = None if timeout is None else time.monotonic() + timeout
  status = 0
  try:
    while any(p.poll() is None for p in procs):
      failed = [p.returncode for p in procs if p.returncode not in (None, 0)]
      if failed or (deadline is not None and time.monotonic() > deadline):
        status = failed[0] if failed else 124
        break
      time.sleep(0.2)
    else:
      status = next((p.returncode for p in procs if p.returncode), 0)
  finally:
    for p in procs:
      if p.poll() is None:
        p.terminate()
    for p in procs:
      try:
        p.wait(timeout=30)
      except subprocess.TimeoutExpired:
        p.kill()
    for f in logs:
      f.close()
  return status


def main(argv: Sequence[str] | None = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  if "--" not in argv:
    print("usage: python -m r1jax.launch --processes N [--cpu_devices K] [--log_dir DIR] -- COMMAND ...",
          file=sys.stderr)
    return 2
  split = argv.index("--")
  parser = argparse.ArgumentParser(prog="python -m r1jax.launch", description=__doc__.splitlines()[0])
  parser.add_argument("--processes", type=int, required=True, help="processes to start")
  parser.add_argument("--cpu_devices", type=int, default=0, help="CPU devices per process (0: the real devices)")
  parser.add_argument("--log_dir", default=None, help="one log file per process here (default: this terminal)")
  parser.add_argument("--timeout", type=float, default=None, help="stop every process after this many seconds")
  args = parser.parse_args(argv[:split])
  return launch(argv[split + 1:], args.processes, args.cpu_devices, timeout=args.timeout, log_dir=args.log_dir)


if __name__ == "__main__":
  raise SystemExit(main())

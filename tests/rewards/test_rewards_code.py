"""The code reward: extraction, test parsing, verdicts, and hostile programs that must be refused without harm."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from r1jax import rewards
from r1jax.rewards import _sandbox, code

pytestmark = pytest.mark.xdist_group("code_sandbox")  # the process checks below want no other sandbox running

ADD_ONE = "def f(x):\n  return x + 1"
ADD_ONE_TESTS = ["assert f(1) == 2", "assert f(-1) == 0", "assert f(10) == 11"]
REPO = Path(__file__).resolve().parents[2]


def answer(program: str) -> str:
  return f"<think>x</think><answer>{program}</answer>"


# ---------------------------------------------------------------------------------------------------------------
# Extraction and test parsing (pure string work in the trainer)


@pytest.mark.parametrize("text, expected", [
    ("<answer>def f(x):\n  return x</answer>", "def f(x):\n  return x"),
    ("<answer>\n\n  def f(x):\n    return x\n\n</answer>", "def f(x):\n  return x"),  # blank lines, indentation
    ("<answer>Here:\n```python\ndef f(x):\n  return 1\n```\nand\n```\ndef f(x):\n  return 2\n```</answer>",
     "def f(x):\n  return 2"),  # the last python block
    ("<answer>```py\ndef f(x): return 3\n```\n```bash\nrm -rf /\n```</answer>", "def f(x): return 3"),
    ("<answer>def f(x): return 1</answer> then <answer>def f(x): return 2</answer>", "def f(x): return 2"),
    ("<think>def f(x): return 1</think>", None),  # no answer
    ("<answer>  \n </answer>", None),
])
def test_extract_code(text, expected):
  assert code.extract_code(text) == expected


@pytest.mark.parametrize("test, expression, expected", [
    ("assert f(1) == 2", "f(1)", 2),
    ("assert [1, (2, 'a')] == g('x', k=2)", "g('x', k=2)", [1, (2, "a")]),
    ("assert f({1: 2}) == {'a': {1, 2}}", "f({1: 2})", {"a": {1, 2}}),
    ("assert is_even(4)", "not not (is_even(4))", True),
    ("assert not is_even(3)", "not (is_even(3))", True),
    ("assert f(1) == -2.5, 'a message'", "f(1)", -2.5),
    ("assert 3 < len(f('abcd'))", "len(f('abcd'))", 3),
])
def test_parse_test(test, expression, expected):
  case = code.parse_test(test)
  assert (case.expression, case.expected) == (expression, expected)


@pytest.mark.parametrize("test, value, passes", [
    ("assert f(1) == 2", 2, True), ("assert f(1) == 2", 2.0, True), ("assert f(1) == 2", "2", False),
    ("assert f(1) != 2", 3, True), ("assert f(1) < 2", 1, True), ("assert f(1) < 2", 2, False),
    ("assert 2 <= f(1)", 2, True), ("assert 2 > f(1)", 3, False), ("assert f(1) >= 2", "x", False),
    ("assert 'a' in f(1)", ["a"], True), ("assert f(1) in [1, 2]", 3, False), ("assert f(1) not in 'xy'", "z", True),
    ("assert f(1) is None", None, True), ("assert f(1) is not None", 0, True), ("assert even(2)", True, True),
    ("assert not even(2)", False, False)])
def test_test_case_check_by_hand(test, value, passes):
  """What Python's own assert would decide for a plain value (the predicate forms report `not not` / `not`)."""
  assert code.parse_test(test).check(value) is passes


@pytest.mark.parametrize("test", ["f(1) == 2", "assert f(1) == g(2)", "assert f(1) < g(2)", "x = 1\nassert x",
                                  "assert f(1) ==", "assert f(1) == 2; assert f(2) == 3", "assert 1 < f(1) < 3",
                                  "assert f(1) == 2 and f(2) == 3", "assert not f(1) == 2", "assert f(f(1) == 2) == 1"])
def test_parse_test_refuses_other_forms(test):
  with pytest.raises(ValueError, match="code test"):
    code.parse_test(test)


# ---------------------------------------------------------------------------------------------------------------
# Verdicts


def test_score_and_partial_credit_by_hand():
  tests = [ADD_ONE_TESTS] * 6
  completions = [
      answer(ADD_ONE),  # all 3 pass
      answer("def f(x):\n  return abs(x) + 1"),  # f(-1) == 2: 2 of 3
      answer("def f(x):\n  return x + 1 if x > 0 else None"),  # 2 of 3 (None != 0)
      answer("def f(x):\n  return str(x + 1)"),  # '2' != 2: 0 of 3
      "<think>no answer</think>",
      answer("def f(x):\n  return x +"),  # SyntaxError: load error
  ]
  values, stats = code.score(completions, tests)
  assert values == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
  fractions, _ = code.score_fraction(completions, tests)
  assert fractions == pytest.approx([1.0, 2 / 3, 2 / 3, 0.0, 0.0, 0.0])
  assert (stats["passed"], stats["failed"], stats["no_code"], stats["load_error"]) == (1, 3, 1, 1)
  assert stats["programs"] == 5 and stats["parse_failures"] == 1


def test_prefill_and_duplicates_run_once():
  completions = ["x</think><answer>" + ADD_ONE + "</answer>"] * 4
  values, stats = code.score(completions, [ADD_ONE_TESTS] * 4, prefill="<think>")
  assert values == [1.0] * 4 and stats["programs"] == 1


def test_registered_reward_through_combine():
  completions = [answer(ADD_ONE), answer("def f(x):\n  return x")]
  total, parts, stats = rewards.combine({"code_accuracy": 1.0, "code_tests_passed": {"weight": 0.5, "timeout": 3.0}},
                                        completions, tests=[ADD_ONE_TESTS] * 2)
  assert parts["code_accuracy"].tolist() == [1.0, 0.0]
  assert parts["code_tests_passed"].tolist() == [1.0, 0.0]
  assert total.tolist() == [1.5, 0.0]
  assert stats["code_accuracy/passed"] == 1 and stats["timeouts"] == 0


def test_a_program_may_use_its_own_directory_and_the_stdlib():
  program = ("import collections, json, math, os, re\n"
             "open('notes.txt', 'w').write('seven')\n"
             "os.mkdir('sub')\n"
             "def f(x):\n  return open('notes.txt').read() + str(math.isqrt(x)) + os.environ['HOME'][:1]")
  values, stats = code.score([answer(program)], [["assert f(49) == 'seven7/'"]])
  assert values == [1.0], stats


def test_values_must_be_plain_builtins():
  """An object that equals everything, and an int subclass that does, are reported as errors, never as values."""
  programs = ["class A:\n  def __eq__(self, other):\n    return True\ndef f(x):\n  return A()",
              "class I(int):\n  def __eq__(self, other):\n    return True\n  __hash__ = int.__hash__\n"
              "def f(x):\n  return I(0)",
              "def f(x):\n  l = []\n  l.append(l)\n  return l"]  # a cycle exhausts the size bound
  values, _ = code.score([answer(p) for p in programs], [ADD_ONE_TESTS] * 3)
  assert values == [0.0, 0.0, 0.0]
  results = _sandbox.run_programs([(p, ["f(1)"]) for p in programs])
  assert [r.values[0][0] for r in results] == ["error", "error", "error"]


def test_decode_value_refuses_malformed_nodes():
  assert _sandbox.decode_value(["t", [["i", "1"], ["S", [["s", "a"]]], ["N"]]]) == (1, {"a"}, None)
  for node in (["i", 1], ["q", "1"], ["i", "1" * 5000], ["d", [[["l", []], ["N"]]]], "s", ["l", "x"], []):
    with pytest.raises(ValueError):
      _sandbox.decode_value(node)


# ---------------------------------------------------------------------------------------------------------------
# Hostile programs: each is refused, the trainer survives, every call is bounded


def _processes_with(token: str) -> list[str]:
  """Pids of the processes on this machine whose command line holds `token`."""
  found = []
  for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
      if token.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
        found.append(pid)
    except OSError:
      continue
  return found


@pytest.fixture
def escape_paths(tmp_path):
  """(paths a program tries to write, the absolute paths that must not exist afterwards)."""
  token = uuid.uuid4().hex
  absolute = [f"/tmp/r1jax-escape-{token}", str(REPO / f"r1jax-escape-{token}"), f"/dev/shm/r1jax-escape-{token}",
              str(tmp_path / "escape")]
  relative = f"../r1jax-escape-rel-{token}"  # from the sandbox directory: its parent, the temporary root
  checked = [p + suffix for p in absolute + [os.path.join(tempfile.gettempdir(), relative[3:])]
             for suffix in ("", ".d", ".ln", ".fd")]
  yield absolute + [relative], checked
  for path in checked:
    if os.path.isdir(path) and not os.path.islink(path):
      shutil.rmtree(path)
    elif os.path.lexists(path):
      os.unlink(path)


def _hostile_programs(port_tcp: int, port_udp: int, escape: list[str], isolated: bool
                     ) -> dict[str, tuple[str, list[str], float]]:
  """name -> (program, tests, the reward it must get). Programs that pass prove the attack failed quietly.

  Each attack is harmless even if the guard it probes regressed: signals to anything but this test process are
  probes (signal 0), and forks are bounded and exit at once, unless the kernel walls are in place (`isolated`:
  a PID namespace and RLIMIT_NPROC), where a real fork bomb is safe to run.
  """
  solve = "\ndef f(x):\n  return x + 1\n"
  programs = {
      "honest": (ADD_ONE, ADD_ONE_TESTS, 1.0),
      "fork": ("import os\nforks = 0\nfor _ in range(20):\n  try:\n    pid = os.fork()\n  except OSError:\n"
               "    break\n  if pid == 0:\n    os._exit(0)\n  forks += 1\n  os.waitpid(pid, 0)\n"
               "def f(x):\n  return forks", ["assert f(0) == 0"], 1.0),
      "subprocess": ("ran = False\ntry:\n  import subprocess\n  subprocess.run(['true'])\n  ran = True\n"
                     "except OSError:\n  pass\ndef f(x):\n  return ran", ["assert not f(0)"], 1.0),
      "infinite_loop": ("while True:\n  pass" + solve, ADD_ONE_TESTS, 0.0),
      "sleep": ("import time\ntime.sleep(3600)" + solve, ADD_ONE_TESTS, 0.0),
      "huge_output": ("import sys\nwhile True:\n  print('x' * 10000)\n  sys.stderr.write('y' * 10000)" + solve,
                      ADD_ONE_TESTS, 0.0),
      "memory_hog": ("x = bytearray(8 << 30)" + solve, ADD_ONE_TESTS, 0.0),
      "memory_creep": ("chunks = []\nwhile True:\n  chunks.append(b'x' * (1 << 24))" + solve, ADD_ONE_TESTS, 0.0),
      "write_outside": (
          f"import os\nwritten = []\nfor p in {escape!r}:\n"
          "  parent, name = os.path.split(os.path.abspath(p))\n"
          "  for attempt in (lambda: open(p, 'w').write('x'), lambda: os.mkdir(p + '.d'),\n"
          "                  lambda: os.symlink('/etc/hostname', p + '.ln'),\n"
          "                  lambda: os.open(name + '.fd', os.O_WRONLY | os.O_CREAT, dir_fd=os.open(parent, 0))):\n"
          "    try:\n      attempt()\n      written.append(p)\n    except OSError:\n      pass\n"
          "def f(x):\n  return written", ["assert f(0) == []"], 1.0),
      "network": (
          "import socket\nreached = []\n"
          f"for attempt in (lambda: socket.create_connection(('127.0.0.1', {port_tcp}), timeout=1),\n"
          f"                lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'dns?', "
          f"('127.0.0.1', {port_udp})),\n"
          "                lambda: socket.getaddrinfo('localhost', 80),\n"
          "                lambda: socket.getaddrinfo('example.com', 80)):\n"
          "  try:\n    attempt()\n    reached.append(True)\n  except OSError:\n    reached.append(False)\n"
          "def f(x):\n  return reached", ["assert f(0) == [False, False, False, False]"], 1.0),
      "env_secrets": (
          "import os\nown = str(os.getpid())\nreadable = []\n"
          "for pid in [p for p in os.listdir('/proc') if p.isdigit() and p != own]:\n"
          "  try:\n    open(f'/proc/{pid}/environ', 'rb').read()\n    readable.append(pid)\n  except OSError:\n"
          "    pass\ndef f(x):\n  return ('R1JAX_TEST_SECRET' in os.environ, sorted(os.environ), readable)",
          ["assert f(0) == (False, ['HOME', 'LANG', 'PATH', 'TMPDIR'], [])"], 1.0),
      # A real SIGKILL only at this test's own process (the trainer here); everything else is a signal-0 probe.
      "kill_parent": (f"import os, signal\nreached = []\nfor target, sig in (({os.getpid()}, signal.SIGKILL), "
                      f"(os.getppid() or {os.getpid()}, signal.SIGKILL), (-1, 0), (1, 0)):\n  try:\n"
                      "    os.kill(target, sig)\n    reached.append(target)\n  except OSError:\n    pass\n"
                      "def f(x):\n  return [t for t in reached if t != 1 or os.getpid() != 1]",
                      ["assert f(0) == []"], 1.0),
      "exit_before_tests": ("import sys\nsys.exit(0)" + solve, ADD_ONE_TESTS, 0.0),
      "os_exit_before_tests": ("import os\nos._exit(0)" + solve, ADD_ONE_TESTS, 0.0),
      "os_exit_in_test": ("import os\ndef f(x):\n  os._exit(0)", ADD_ONE_TESTS, 0.0),
      "patch_builtins": ("import builtins\nbuiltins.eval = lambda *a, **k: 2\nbuiltins.AssertionError = Exception\n"
                         "builtins.compile = lambda *a, **k: None\ndef f(x):\n  return 2", ADD_ONE_TESTS, 0.0),
      "patch_harness_json": ("import json\njson.dumps = lambda *a, **k: '[\"done\"]'\ndef f(x):\n  return 0",
                             ADD_ONE_TESTS, 0.0),
      # Forged records on the result pipe, then an exit before the harness writes: the forger must guess values.
      "fake_marker": ("import os, sys\nprint('all tests passed')\nprint('[\"done\"]')\nfd = int(sys.argv[-1])\n"
                      "for i in range(3):\n  os.write(fd, f'[\"value\", {i}, [\"i\", \"7\"]]\\n'.encode())\n"
                      "os.write(fd, b'[\"done\"]\\n')\nos._exit(0)", ADD_ONE_TESTS, 0.0),
      "fake_done": ("import os, sys\nos.write(int(sys.argv[-1]), b'[\"done\"]\\n')\nos._exit(0)" + solve,
                    ADD_ONE_TESTS, 0.0),
      "ctypes": ("native = False\ntry:\n  import ctypes\n  native = ctypes.CDLL(None).getpid() > 0\n"
                 "except Exception:\n  pass\ndef f(x):\n  return native", ["assert not f(0)"], 1.0),
  }
  if isolated:  # the kernel bounds these even without the audit hook
    programs["fork_bomb"] = ("import os\nwhile True:\n  os.fork()" + solve, ADD_ONE_TESTS, 0.0)
  return programs


@pytest.mark.parametrize("isolation", ["auto", "none"])
def test_hostile_programs_are_refused_and_bounded(isolation, escape_paths, monkeypatch):
  monkeypatch.setenv("R1JAX_TEST_SECRET", "hunter2")
  tcp = socket.socket()
  tcp.bind(("127.0.0.1", 0))
  tcp.listen(8)
  tcp.settimeout(0.2)
  udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
  udp.bind(("127.0.0.1", 0))
  udp.settimeout(0.2)
  targets, must_not_exist = escape_paths
  limits = _sandbox.Limits(timeout=2.0, isolation=isolation)
  (probe,) = _sandbox.run_programs([(ADD_ONE, ["f(1)"])], limits)
  programs = _hostile_programs(tcp.getsockname()[1], udp.getsockname()[1], targets, probe.isolated)
  names = list(programs)
  start = time.monotonic()
  verdicts, stats = code.judge([answer(p) for p, _, _ in programs.values()], [t for _, t, _ in programs.values()],
                               limits=limits, num_workers=4)
  elapsed = time.monotonic() - start
  got = {name: (1.0 if v.status == "passed" else 0.0, v.status) for name, v in zip(names, verdicts)}
  assert {n: g[0] for n, g in got.items()} == {n: p[2] for n, p in programs.items()}, got
  assert elapsed < 10.0, elapsed  # a safety bound: 4 programs at a time, 2 s each at most
  assert got["infinite_loop"][1] in ("timeout", "crashed") and got["sleep"][1] == "timeout"
  assert got["exit_before_tests"][1] == "load_error" and got["os_exit_in_test"][1] == "exited_early"
  assert stats["timeouts"] >= 2
  # Independent truths: nothing reached the listeners, no file appeared outside, nothing was left running.
  for sock in (tcp, udp):
    with pytest.raises(socket.timeout):
      sock.accept() if sock is tcp else sock.recvfrom(64)
  assert not [p for p in must_not_exist if os.path.lexists(p)]
  tcp.close()
  udp.close()
  (result,) = _sandbox.run_programs([(programs["huge_output"][0], ["f(1)"])], limits)
  assert result.status == "load_error" and len(result.output.encode()) <= limits.output_bytes
  # Degrading is loud: every run without the full kernel isolation is counted, and logged once.
  if isolation == "none":
    assert stats["unisolated"] == stats["programs"]


def test_kernel_walls_hold_without_the_audit_hook(escape_paths):
  """The namespaces, the uid and the rlimits on their own (the audit hook off): forks bounded by RLIMIT_NPROC,
  no network, a read-only file system outside the sandbox, no process of the trainer's to see or signal."""
  (probe,) = _sandbox.run_programs([(ADD_ONE, ["f(1)"])])
  if not probe.isolated:
    pytest.skip(f"this kernel does not allow the sandbox's namespaces: {probe.isolation}")
  tcp = socket.socket()
  tcp.bind(("127.0.0.1", 0))
  tcp.listen(8)
  tcp.settimeout(0.2)
  targets, must_not_exist = escape_paths
  token = f"r1jax-fork-{uuid.uuid4().hex}"  # in the command line of every child the program forks
  program = (
      "import errno, os, socket, sys\n"
      "def fails(attempt):\n  try:\n    attempt()\n    return 'ok'\n  except OSError as e:\n"
      "    return errno.errorcode.get(e.errno, str(e.errno))\n"
      "forks = 0\nfor _ in range(100):\n  try:\n    pid = os.fork()\n  except OSError:\n    break\n"
      "  if pid == 0:\n    try:\n"
      f"      os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', '{token}'])\n"
      "    finally:\n"
      "      os._exit(0)\n  forks += 1\n"
      f"net = fails(lambda: socket.create_connection(('127.0.0.1', {tcp.getsockname()[1]}), timeout=1))\n"
      f"writes = [fails(lambda: open(p, 'w').write('x')) for p in {targets!r}]\n"
      f"kill = fails(lambda: os.kill({os.getpid()}, 0))\n"
      "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
      "def f(x):\n  return (0 < forks < 20, net, set(writes) <= {'EROFS', 'EACCES'}, kill, os.getuid() != 0,\n"
      "          len(pids) == forks + 1)")
  limits = _sandbox.Limits(timeout=5.0, audit_hook=False)
  verdicts, _ = code.judge([answer(program)], [["assert f(0) == (True, 'ENETUNREACH', True, 'ESRCH', True, True)"]],
                           limits=limits)
  assert verdicts[0].status == "passed", _sandbox.run_programs([(program, ["f(0)"])], limits)
  (result,) = _sandbox.run_programs([(program, ["forks", "writes"])], limits)
  assert result.values[0][1] < limits.processes, result.values  # RLIMIT_NPROC, not the loop, ended the forks
  assert result.values[1][1][0] == result.values[1][1][2] == "EROFS"  # /tmp and /dev/shm are world-writable
  with pytest.raises(socket.timeout):
    tcp.accept()
  tcp.close()
  assert not [p for p in must_not_exist if os.path.lexists(p)]
  assert not _processes_with(token)  # the sleeping children died with the namespace, before the call returned


def test_isolation_is_reported_and_degradation_is_loud(caplog):
  """Whatever this kernel allows: the report says it, the stats count what is missing, and it is logged."""
  _sandbox._warned.clear()
  with caplog.at_level(logging.WARNING, logger="r1jax.rewards._sandbox"):
    (result,) = _sandbox.run_programs([(ADD_ONE, ["f(1)"])])
    _, stats = code.score([answer(ADD_ONE)], [ADD_ONE_TESTS])
  assert result.status == "ok" and result.values == [("value", 2)]
  assert set(result.isolation) >= {"namespaces", "readonly", "proc", "uid", "nproc_limited", "errors"}
  if result.isolated:
    assert stats["unisolated"] == 0 and not caplog.records
  else:
    assert stats["unisolated"] == 1 and "without full kernel isolation" in caplog.text


def test_required_isolation_refuses_to_run_without_it():
  (result,) = _sandbox.run_programs([(ADD_ONE, ["f(1)"])], _sandbox.Limits(isolation="required"))
  if result.isolated:
    assert result.status == "ok" and result.isolation["uid"] != 0
  else:
    assert result.status == "refused" and result.values == [None]


def test_batch_timeout_bounds_a_call():
  start = time.monotonic()
  results = _sandbox.run_programs([("while True:\n  pass", ["f(1)"])] * 6, _sandbox.Limits(timeout=5.0),
                                  num_workers=2, batch_timeout=1.0)
  assert time.monotonic() - start < 4.0
  assert [r.status for r in results] == ["timeout"] * 6


def test_configure_checks_its_values():
  with pytest.raises(ValueError, match="num_workers"):
    code.configure(num_workers=0)
  with pytest.raises(ValueError, match="isolation"):
    _sandbox.Limits(isolation="off")
  with pytest.raises(ValueError, match="timeout"):
    _sandbox.Limits(timeout=0)

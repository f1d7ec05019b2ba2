"""Argument checks whose errors name the setting at fault (the trainers' settings prefix them with their section)."""

from __future__ import annotations

from typing import Any


class SettingsError(ValueError):
  """A setting that is unknown, of the wrong type, or out of range. The message starts with its name."""


class RunError(RuntimeError):
  """A run that cannot go on: a checkpoint that cannot be saved, non-finite values, no learning signal. The message
  says what failed and where (the step, the file); the run's last checkpoint is intact."""


def require(ok: bool, key: str, message: str) -> None:
  """Raise SettingsError("<key> <message>") unless `ok`."""
  if not ok:
    raise SettingsError(f"{key} {message}")


def positive(obj: Any, *names: str) -> None:
  """Each attribute `names` of `obj` is >= 1."""
  for name in names:
    value = getattr(obj, name)
    require(value >= 1, name, f"must be >= 1, got {value!r}")


def non_negative(obj: Any, *names: str) -> None:
  """Each attribute `names` of `obj` is >= 0."""
  for name in names:
    value = getattr(obj, name)
    require(value >= 0, name, f"must be >= 0, got {value!r}")


def one_of(value: Any, valid: tuple, key: str) -> None:
  """`value` is one of `valid`."""
  require(value in valid, key, f"must be one of {valid}, got {value!r}")

"""Named registries for the pieces a researcher swaps by name: rewards, tasks, templates, losses, estimators.

    from r1jax import rewards

    @rewards.register("brevity")          # decorator form
    def brevity(texts, *, lengths):
      return [1.0 if n < 32 else 0.0 for n in lengths]

    rewards.register("brevity", brevity)  # or call form; config: rewards={"brevity": 0.5}

Re-running a notebook cell that registers a function replaces that cell's own earlier entry (same module and
qualified name), so a cell can be edited and run again. Registering a *different* function under a taken name is
an error unless `replace=True`: a typo must not silently shadow a built-in. An unknown name lists the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _origin(obj: Any) -> tuple[str, str] | None:
  """(module, qualified name) of a function or class, the identity that survives re-running its definition."""
  module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
  return (module, qualname) if module and qualname else None


class Registry(Mapping, Generic[T]):
  """An ordered name -> object mapping with decorator registration and errors that list the valid names."""

  def __init__(self, kind: str, entries: Mapping[str, T] | None = None):
    self.kind = kind
    self._entries: dict[str, T] = {}
    for name, obj in (entries or {}).items():
      self.register(name, obj)

  def register(self, name: str, obj: T | None = None, *, replace: bool = False) -> Any:
    """Add `obj` under `name`; without `obj`, return a decorator that does. Returns `obj`.

    Raises ValueError when `name` is taken by another definition (pass replace=True to override it on purpose).
    """
    if not isinstance(name, str) or not name:
      raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
    if obj is None:
      return lambda fn: self.register(name, fn, replace=replace)
    current = self._entries.get(name)
    if current is not None and not replace and current is not obj:
      same_definition = _origin(current) is not None and _origin(current) == _origin(obj)
      if not same_definition:
        raise ValueError(f"{self.kind} {name!r} is already registered ({_describe(current)}); pass replace=True "
                         f"to replace it, or pick another name")
    self._entries[name] = obj
    return obj

  def pop(self, name: str, *default: Any) -> T:
    """Remove and return the entry `name`; with a default, an absent name returns it instead of raising."""
    if name not in self._entries and default:
      return default[0]
    self[name]  # noqa: B018 (raises the descriptive KeyError)
    return self._entries.pop(name)

  def __getitem__(self, name: str) -> T:
    if name not in self._entries:
      raise KeyError(f"unknown {self.kind} {name!r}; valid: {', '.join(sorted(self._entries)) or '(none)'}")
    return self._entries[name]

  def get(self, name: str, default: Any = None) -> T:  # type: ignore[override]
    """Like `self[name]`: an unknown name is an error (a registry lookup never silently falls back)."""
    del default
    return self[name]

  def names(self) -> list[str]:
    return sorted(self._entries)

  def __iter__(self) -> Iterator[str]:
    return iter(self._entries)

  def __len__(self) -> int:
    return len(self._entries)

  def __contains__(self, name: object) -> bool:
    return name in self._entries

  def __repr__(self) -> str:
    return f"Registry({self.kind!r}, {self.names()})"


def _describe(obj: Any) -> str:
  origin = _origin(obj)
  return f"{origin[0]}.{origin[1]}" if origin else repr(obj)


def registrar(registry: Registry[T]) -> Callable[..., Any]:
  """The module-level `register(name, obj=None, *, replace=False)` of a registry, for `lib.register(...)`."""
  def register(name: str, obj: T | None = None, *, replace: bool = False):
    return registry.register(name, obj, replace=replace)

  register.__doc__ = f"Register a {registry.kind} by name (see r1jax.registry.Registry.register)."
  return register

"""Registries: decorator and call registration, re-running a definition replaces it, clashes are errors."""

import pytest

from r1jax.registry import Registry


def test_register_get_and_unknown_names():
  reg = Registry("widget", {"a": 1})

  @reg.register("double")
  def double(x):
    return 2 * x

  assert reg["double"] is double and reg["a"] == 1 and list(reg) == ["a", "double"]
  with pytest.raises(KeyError, match=r"unknown widget 'dubble'; valid: a, double"):
    reg["dubble"]


def test_rerunning_a_definition_replaces_it_but_another_function_may_not_take_the_name():
  reg = Registry("widget")
  namespace = {"__name__": "__main__"}
  source = "def f(x):\n  return x + {}\n"
  exec(compile(source.format(1), "<cell>", "exec"), namespace)  # a notebook cell ...
  reg.register("f", namespace["f"])
  exec(compile(source.format(2), "<cell>", "exec"), namespace)  # ... edited and run again
  reg.register("f", namespace["f"])
  assert reg["f"](0) == 2

  def g(x):
    return x

  with pytest.raises(ValueError, match="already registered"):
    reg.register("f", g)
  reg.register("f", g, replace=True)
  assert reg["f"] is g
  assert reg.pop("f") is g and "f" not in reg and reg.pop("f", None) is None

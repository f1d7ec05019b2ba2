"""docs/ stands alone and stays true: the settings reference is generated from the settings, the module dependency
table of docs/architecture.md is what the imports do, and every repository path the docs name exists."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from r1jax.trainers import settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
REGENERATE = "regenerate it: python -m r1jax.trainers.settings docs/configuration.md"


def test_configuration_reference_is_the_generated_one():
  committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
  assert committed == settings.reference_markdown(), f"docs/configuration.md is stale; {REGENERATE}"


def test_every_setting_is_documented_in_the_reference():
  text = settings.reference_markdown()
  for _, cls, _ in settings.REFERENCE_TRAINERS:
    for key, _, meaning in settings.describe(cls):
      assert meaning, f"{cls.__name__}: {key} has no docstring under its field"
      assert f"| `{key}`" in text, key


@dataclasses.dataclass(frozen=True)
class _LongSFT(settings.SFTSettings):
  """SFT whose train section has another default than SFTLoopSettings' own."""

  train: settings.SFTLoopSettings = dataclasses.field(default_factory=lambda: settings.SFTLoopSettings(steps=400))


def test_the_reference_shows_a_sections_default_as_the_trainer_sets_it():
  row = next(r for r in settings.describe(_LongSFT) if r[0] == "config.train.steps")
  assert row[1] == _LongSFT().train.steps == 400


def test_the_command_writes_the_reference(tmp_path):
  out = tmp_path / "configuration.md"
  subprocess.run([sys.executable, "-m", "r1jax.trainers.settings", str(out)], cwd=ROOT, check=True, timeout=120)
  assert out.read_text(encoding="utf-8") == settings.reference_markdown()


def _documented_dependencies() -> dict[str, set[str] | None]:
  """module -> the r1jax modules it may import, from the table in docs/architecture.md (None: any)."""
  text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
  section = text.split("## Dependency direction", 1)[1].split("\n## ", 1)[0]
  allowed: dict[str, set[str] | None] = {}
  for line in section.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 2 or not cells[0].startswith("`"):
      continue
    modules = re.findall(r"`(\w+)`", cells[0])
    may = None if cells[1] == "any of the above" else set(re.findall(r"`(\w+)`", cells[1]))
    for module in modules:
      allowed[module] = may
  assert allowed, "docs/architecture.md has no dependency table"
  return allowed


def _imports() -> dict[str, set[str]]:
  """r1jax module (its first name under r1jax) -> the top-level names it imports: other r1jax modules and
  experiments / configs."""
  edges: dict[str, set[str]] = {}
  for path in (ROOT / "r1jax").rglob("*.py"):
    parts = path.relative_to(ROOT).with_suffix("").parts
    if len(parts) == 2 and parts[1] == "__init__":
      continue
    unit = parts[1]
    found = edges.setdefault(unit, set())
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
      names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
               [node.module] + [f"{node.module}.{a.name}" for a in node.names]
               if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
      for name in names:
        top = name.split(".")
        if top[0] in ("experiments", "configs"):
          found.add(top[0])
        elif top[0] == "r1jax" and len(top) > 1 and top[1] != unit:
          found.add(top[1])
  return edges


def test_imports_follow_the_documented_dependency_direction():
  allowed = _documented_dependencies()
  modules = {p.stem if p.is_file() else p.name for p in (ROOT / "r1jax").iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
  undocumented = modules - set(allowed) - {"testing"}  # testing.py: test helpers only
  assert not undocumented, f"docs/architecture.md's dependency table lacks {sorted(undocumented)}"
  for module, imported in _imports().items():
    assert not imported & {"experiments", "configs"}, f"r1jax.{module} imports {imported & {'experiments', 'configs'}}"
    may = allowed.get(module)
    if may is None:
      continue
    assert imported <= may, (f"r1jax.{module} imports {sorted(imported - may)}, which docs/architecture.md does not "
                             f"allow (it may import {sorted(may) or 'nothing'}): fix the import or the table")


def test_repository_paths_named_in_the_docs_exist():
  pattern = re.compile(r"`((?:r1jax|tests|experiments|configs|notebooks|benchmarks|docs)/[\w./-]+\.(?:py|md|ipynb))`"
                       r"|\]\(([\w./-]+\.(?:py|md|ipynb))(?:#[\w-]*)?\)")
  for doc in DOCS + [ROOT / "README.md"]:
    for match in pattern.finditer(doc.read_text(encoding="utf-8")):
      named = match.group(1) or match.group(2)
      target = ROOT / named if match.group(1) else doc.parent / named
      assert target.exists(), f"{doc.relative_to(ROOT)} names {named}, which does not exist"

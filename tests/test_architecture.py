"""The architecture holds: stages import one way, EconML stays in ``cate``, no private names cross modules.

The layer and EconML contracts are import-linter contracts in ``pyproject.toml``. Private
names are checked here by an AST walk: import-linter has no contract for them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "metarouter_stats"


def test_import_contracts_are_kept():
    importlinter_cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extra")
    code = importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, "an import contract of pyproject.toml is broken: run `lint-imports` for the chain"


def _private_imports(path: Path) -> list[str]:
    """`from <module> import _name` of a package module (the helper modules' public names are fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("metarouter_stats")):
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "__version__":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}")
    return found


def test_no_private_name_crosses_modules():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_benchmarks_use_no_private_name_of_the_package():
    """Benchmarks are users of the package: they import its public and module-level names only."""
    found = [hit for path in sorted((ROOT / "benchmarks").rglob("*.py")) for hit in _private_imports(path)]
    assert not found, "private names imported by benchmarks:\n" + "\n".join(found)


def test_no_assert_in_library_code():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "`assert` in library code (use an exception with a message):\n" + "\n".join(found)


def test_public_names_match_the_api_reference():
    import metarouter_stats as mrs

    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    modules = ("__version__", "datasets", "decision", "evaluation", "inference", "planning")  # namespaces, not names
    missing = [name for name in mrs.__all__ if name not in modules and f"   {name}\n" not in api]
    assert not missing, f"public names missing from docs/api.rst: {missing}"


def test_namespaces_group_the_public_names_and_keep_all_sorted():
    """statsmodels-style namespaces: mrs.inference, mrs.evaluation, mrs.planning, mrs.decision; __all__ sorted."""
    import metarouter_stats as mrs

    for space in (mrs, mrs.inference, mrs.evaluation, mrs.planning, mrs.decision):
        names = [n for n in space.__all__ if not n.startswith("_")]
        assert names == sorted(names, key=str.lower), f"{space.__name__}.__all__ is not sorted"
        assert all(hasattr(space, n) for n in space.__all__)
    assert mrs.evaluation.evaluate_routers is mrs.evaluate_routers and mrs.inference.bias_ttest is mrs.bias_ttest
    engines = {"fast_bootstrap", "refit_bootstrap", "make_band"}
    assert not engines & (set(mrs.__all__) | set(mrs.inference.__all__) | set(mrs.evaluation.__all__))

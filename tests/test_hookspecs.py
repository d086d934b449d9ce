"""Docs as tests: every hook spec is documented with its exact argument names."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from fusionbench import hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugin-authors.md"


def _hooks():
    return {name: getattr(hookspecs, name) for name in dir(hookspecs) if name.startswith("fusionbench_")}


def test_every_hook_has_a_heading_with_its_exact_signature():
    headings = set(re.findall(r"^### (fusionbench_\w+\(.*\))$", DOC.read_text(), flags=re.M))
    for name, function in _hooks().items():
        args = ", ".join(inspect.signature(function).parameters)
        assert f"{name}({args})" in headings, f"docs/plugin-authors.md lacks '### {name}({args})'"


def test_docs_name_no_hook_that_does_not_exist():
    documented = set(re.findall(r"^### (fusionbench_\w+)\(", DOC.read_text(), flags=re.M))
    assert documented == set(_hooks())

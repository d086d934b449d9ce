"""Conformance tests any fusionbench plugin can run in its own test suite.

    pytest --pyargs fusionbench.testing.conformance --fusionbench-plugin=NAME

or ``fusionbench plugins check NAME`` (no pytest needed), or ``assert_conformance(NAME)`` in a
plugin's own test file. The checks: the plugin loads and its hook module is
import-light (no torch); every factory resolves; models build on the CPU and honour the output
contract on a synthetic batch of each declared task, deterministically under a fixed seed;
metrics return one float64 per image and score a perfect fusion with their declared ideal value;
datasets yield the task's fields with the right shapes, or say why they are unavailable.
"""

from .checks import assert_conformance, run_checks
from .synthetic import synthetic_batch, synthetic_card

__all__ = ["assert_conformance", "run_checks", "synthetic_batch", "synthetic_card"]

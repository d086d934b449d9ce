"""Registration: the plugin module is cheap to import and its specs are complete and buildable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fusionbench.components.metrics import fusionbench_register_metrics
from fusionbench.lazy import resolve
from fusionbench.specs import NAME_PATTERN, MetricSpec

SPECS = fusionbench_register_metrics()
EXPECTED = {
    "sam",
    "ergas",
    "psnr",
    "ssim",
    "q2n",
    "q-avg",
    "scc",
    "d-lambda",
    "d-s",
    "qnr",
    "d-lambda-k",
    "hqnr",
    "en",
    "sd",
    "sf",
    "ag",
    "mi",
    "scd",
    "vif",
    "qabf",
    "ssim-fusion",
    "psnr-fusion",
    "cc",
    "nabf",
    "rmse",
    "ce",
    "ei",
    "qcb",
    "qcv",
}


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, fusionbench.components.metrics as p; p.fusionbench_register_metrics();"
        "heavy = [m for m in ('torch', 'numpy', 'scipy', 'fusionbench.metrics.pansharpening') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_names_and_declarations() -> None:
    assert {s.name for s in SPECS} == EXPECTED and len(SPECS) == len(EXPECTED)
    for s in SPECS:
        assert isinstance(s, MetricSpec) and NAME_PATTERN.match(s.name)
        assert s.version and s.tasks and s.protocols and s.reference_impl and s.description
        assert isinstance(s.higher_is_better, bool)
        if "full" in s.protocols or "none" in s.protocols:
            assert not s.requires_reference
        if "reduced" in s.protocols:
            assert s.requires_reference and "dim_cut" in s.params
        if s.tasks & {"ivf", "mif"}:
            assert s.tasks == frozenset({"ivf", "mif"}) and s.protocols == frozenset({"none"})
            assert s.params["profile"].choices == ("cddfuse", "vifb")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_factories_build_with_defaults_and_coerced_strings(spec: MetricSpec) -> None:
    cls = resolve(spec.factory)
    assert cls.name == spec.name
    cls(**{k: p.default for k, p in spec.params.items()})
    # the command line hands strings; ParamSpec.coerce turns them into the declared types
    cls(**{k: p.coerce(str(p.default)) for k, p in spec.params.items()})


def test_changed_definitions_bump_versions() -> None:
    specs = {s.name: s for s in SPECS}
    # Nabf 2: Kumar's per_extn_im_fn mirror border replaced version 1's circular wrap
    assert specs["nabf"].version == "2"
    rmse = specs["rmse"]
    assert rmse.higher_is_better is False and rmse.ideal == 0.0 and "metricsRmse" in rmse.reference_impl

"""Registration and the model contract for every classical baseline.

Shapes, float64 output, finiteness, determinism, batch independence, inputs left untouched,
clear errors for bad inputs: checked once here for all methods, on small batches.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from fusionbench import FusionBatch, ModelSpec
from fusionbench.lazy import build
from fusionbench.registry import load_registry
from fusionbench.specs import NAME_PATTERN, DataCard
from fusionbench_classical import plugin

PANSHARPENING = [
    "exp", "brovey", "ihs", "pca", "bt-h", "gsa", "c-gsa", "bdsd-pc",
    "mtf-glp", "mtf-glp-fs", "mtf-glp-hpm", "mtf-glp-hpm-r", "awlp", "pracs",
]  # fmt: skip
MHIF = ["glp-hs", "cnmf"]
PAIRS = ["average", "max-abs", "dwt", "laplacian-pyramid", "gff"]
FAST_CNMF = {"inner": 20, "outer": 1, "endmembers": 4}


@pytest.fixture(scope="module")
def registry():
    return load_registry(only=["classical"])


def _model(registry, name: str, **params):
    return build(registry.get("model", name).spec, **params)


def test_every_method_is_registered_through_the_entry_point(registry):
    status = registry.status("classical")
    assert status.state == "ok", status.error
    assert status.dist == "fusionbench-classical"
    assert set(registry.names("model")) == set(PANSHARPENING + MHIF + PAIRS)


@pytest.mark.parametrize("spec", plugin.fusionbench_register_models(), ids=lambda s: s.name)
def test_specs_are_well_formed(spec: ModelSpec):
    assert NAME_PATTERN.match(spec.name)
    assert isinstance(spec.factory, str) and spec.factory.startswith("fusionbench_classical.")
    assert spec.description and spec.citation
    expected = {"pansharpening"} if spec.name in PANSHARPENING else {"mhif"} if spec.name in MHIF else {"ivf", "mif"}
    assert spec.tasks == expected
    # every declared default is accepted by the factory
    build(spec, **{k: p.default for k, p in spec.params.items()})


def test_hook_module_is_import_light():
    code = (
        "import sys, fusionbench_classical.plugin as p; p.fusionbench_register_models(); "
        "bad = [m for m in ('torch', 'numpy', 'scipy', 'pywt') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _pansharpening(registry, name, batch):
    return _model(registry, name).fuse(batch)


def _check_output(out: torch.Tensor, like: torch.Tensor) -> None:
    assert out.shape == like.shape
    assert out.dtype == torch.float64
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", PANSHARPENING)
def test_pansharpening_contract(registry, ps_batch, name):
    batch, _ = ps_batch(seed=1, bands=4, size=32, batch=2)
    before = {k: v.clone() for k, v in batch.inputs.items()}
    out = _pansharpening(registry, name, batch)
    _check_output(out, batch.inputs["lms"])
    assert all(torch.equal(before[k], batch.inputs[k]) for k in before), "inputs were modified"
    again = _pansharpening(registry, name, batch)
    assert torch.equal(out, again), "not deterministic"
    # batch independence: image 1 alone gives the same result as inside the batch
    single = FusionBatch(("im1",), {k: v[1:] for k, v in batch.inputs.items()}, batch.card)
    torch.testing.assert_close(_pansharpening(registry, name, single)[0], out[1], rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("name", PANSHARPENING)
def test_pansharpening_eight_bands_and_wv3_card(registry, ps_batch, name):
    batch, _ = ps_batch(seed=2, bands=8, size=32, sensor="WV3")
    _check_output(_pansharpening(registry, name, batch), batch.inputs["lms"])


def test_pansharpening_bad_inputs_are_named(registry, ps_batch):
    batch, _ = ps_batch()
    model = _model(registry, "gsa")
    missing = FusionBatch(batch.image_ids, {k: v for k, v in batch.inputs.items() if k != "pan"}, batch.card)
    with pytest.raises(ValueError, match="gsa: input 'pan' is missing"):
        model.fuse(missing)
    wrong_pan = dict(batch.inputs, pan=batch.inputs["pan"].repeat(1, 2, 1, 1))
    with pytest.raises(ValueError, match="pan must be"):
        model.fuse(FusionBatch(batch.image_ids, wrong_pan, batch.card))
    wrong_ratio = DataCard(sensor="QB", ratio=2, bands=4, max_value=2047.0)
    with pytest.raises(ValueError, match="do not differ by the ratio 2"):
        model.fuse(FusionBatch(batch.image_ids, batch.inputs, wrong_ratio))
    nan = dict(batch.inputs, ms=batch.inputs["ms"].clone())
    nan["ms"][0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="'ms' contains NaN"):
        model.fuse(FusionBatch(batch.image_ids, nan, batch.card))


def test_glp_methods_reject_non_dyadic_ratios(registry, ps_batch):
    batch, _ = ps_batch(size=24)
    card = DataCard(sensor="QB", ratio=3, bands=4, max_value=2047.0, mtf_gnyq=(0.3,) * 4)
    inputs = dict(batch.inputs, ms=batch.inputs["lms"][..., 1::3, 1::3])
    with pytest.raises(ValueError, match="power-of-two ratio"):
        _model(registry, "mtf-glp-fs").fuse(FusionBatch(batch.image_ids, inputs, card))
    assert registry.get("model", "mtf-glp-fs").spec.requires.ratios == frozenset({2, 4, 8, 16})


def test_bdsd_pc_without_pan_gnyq(registry, ps_batch):
    batch, _ = ps_batch(sensor="GF2")  # the toolbox has no PAN MTF for GF2
    assert batch.card.pan_gnyq is None
    with pytest.warns(UserWarning, match="no PAN GNyq"):
        out = _model(registry, "bdsd-pc").fuse(batch)
    _check_output(out, batch.inputs["lms"])
    with pytest.raises(ValueError, match="no PAN MTF gain"):
        _model(registry, "bdsd-pc", missing_pan_gnyq="error").fuse(batch)


@pytest.fixture(scope="module")
def mhif_batch():
    reg = load_registry(only=["datasets"])
    ds = build(reg.get("dataset", "synthetic-cave-x4").spec)
    items = list(ds.items("test"))[:2]
    crop = lambda a, r=1: torch.as_tensor(a, dtype=torch.float64)[..., : 64 // r, : 64 // r]  # noqa: E731
    inputs = {
        "hrmsi": torch.stack([crop(i.inputs["hrmsi"]) for i in items]),
        "lrhsi": torch.stack([crop(i.inputs["lrhsi"], 4) for i in items]),
        "hsi_up": torch.stack([crop(i.inputs["hsi_up"]) for i in items]),
    }
    return FusionBatch(tuple(i.image_id for i in items), inputs, ds.card)


@pytest.mark.parametrize("name", MHIF)
def test_mhif_contract(registry, mhif_batch, name):
    params = FAST_CNMF if name == "cnmf" else {}
    model = _model(registry, name, **params)
    out = model.fuse(mhif_batch)
    _check_output(out, mhif_batch.inputs["hsi_up"])
    assert torch.equal(out, model.fuse(mhif_batch))
    single = FusionBatch(mhif_batch.image_ids[1:], {k: v[1:] for k, v in mhif_batch.inputs.items()}, mhif_batch.card)
    torch.testing.assert_close(model.fuse(single)[0], out[1], rtol=1e-9, atol=1e-10)


def _pair_batch(task: str, seed: int = 0, shape=(2, 1, 37, 50)) -> FusionBatch:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(*shape, generator=g, dtype=torch.float64) * 255
    b = torch.rand(*shape, generator=g, dtype=torch.float64) * 255
    names = {"ivf": ("ir", "vi"), "mif": ("mri", "other")}[task]
    return FusionBatch(("a", "b")[: shape[0]], {names[0]: a, names[1]: b}, DataCard(sensor=task, max_value=255.0))


@pytest.mark.parametrize("task", ["ivf", "mif"])
@pytest.mark.parametrize("name", PAIRS)
def test_pair_contract(registry, name, task):
    batch = _pair_batch(task)
    model = _model(registry, name)
    out = model.fuse(batch)
    _check_output(out, next(iter(batch.inputs.values())))
    assert torch.equal(out, model.fuse(batch))
    single = FusionBatch(("b",), {k: v[1:] for k, v in batch.inputs.items()}, batch.card)
    torch.testing.assert_close(model.fuse(single)[0], out[1], rtol=1e-10, atol=1e-9)


def test_pair_methods_name_the_expected_fields(registry):
    batch = FusionBatch(("x",), {"pan": torch.zeros(1, 1, 8, 8)}, DataCard())
    with pytest.raises(ValueError, match="expected inputs 'ir'\\+'vi' or 'mri'\\+'other'"):
        _model(registry, "average").fuse(batch)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name", PANSHARPENING)
def test_pansharpening_on_gpu_matches_cpu(registry, ps_batch, name):
    batch, _ = ps_batch(seed=3, bands=4, size=32)
    gpu = FusionBatch(batch.image_ids, {k: v.cuda() for k, v in batch.inputs.items()}, batch.card)
    out = _pansharpening(registry, name, gpu)
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), _pansharpening(registry, name, batch), rtol=1e-7, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name", PAIRS + MHIF)
def test_other_tasks_on_gpu(registry, name, mhif_batch):
    batch = mhif_batch if name in MHIF else _pair_batch("ivf")
    params = FAST_CNMF if name == "cnmf" else {}
    gpu = FusionBatch(batch.image_ids, {k: v.cuda() for k, v in batch.inputs.items()}, batch.card)
    out = _model(registry, name, **params).fuse(gpu)
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), _model(registry, name, **params).fuse(batch), rtol=1e-7, atol=1e-6)

"""Time every pansharpening metric on a WV3-sized batch and compare with NumPy loops.

Reduced resolution: 20 images 8x256x256 (DN) scored by sam, ergas, q2n, q-avg, scc, psnr, ssim.
Full resolution: 20 images 8x512x512 with PAN 512x512 scored by d-lambda, d-s, qnr, d-lambda-k,
hqnr. The images are built from the real WV3 samples in ../shared/data when present (flips,
rotations and noise of the RR sample; the Z-PNN FR crop upsampled with PAN detail), otherwise
from a seeded synthetic texture, so the script runs anywhere. The per-image NumPy loop baselines
are fusionbench.metrics.naive's Q2n and D_s (the toolbox's loops, vectorised only inside a block).

Gaussian SSIM is also timed side by side with its previous implementation (five maps through
``correlate``'s separable passes) and with ``piq.ssim`` in float32 on the same batch (piq 0.8.0 is
an optional, benchmark-only comparison: ``pip install --no-deps piq==0.8.0``; its package
``__init__`` imports torchvision for other metrics, so the script loads ``piq.ssim`` alone and
reports piq as missing when it is not installed).

The infrared-visible metrics of the ``ivf-vifb`` suite (all 17, VIFB profile) are timed on 10 grey
480x640 triples (seeded textures: IR blobs, VI edges, their mean as the fused image), the size of
TNO/VIFB images, so their cost can be set against a model's.

Run:  python benchmarks/metrics.py [--repeats 3] [--naive-images 20] [--dim-cut 0] [--threads 2]

``--dim-cut`` defaults to the ``reduced-res`` suite's border cut (0, read from the suite), so the
timed work is what a suite run scores; ``--threads`` sets ``torch.set_num_threads`` (default 2, the
figures in docs/metrics.md).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from fusionbench.components.metrics import metric_specs
from fusionbench.components.suites import REDUCED_RES
from fusionbench.lazy import build
from fusionbench.metrics import naive
from fusionbench.metrics._stats import chunked
from fusionbench.sensors import get_sensor
from fusionbench.specs import DataCard

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pansharpening"
RR_METRICS = ("sam", "ergas", "q2n", "q-avg", "scc", "psnr", "ssim")
FR_METRICS = ("d-lambda", "d-s", "qnr", "d-lambda-k", "hqnr")
N_IMAGES = 20


def suite_dim_cut() -> int:
    """The ``dim_cut`` the ``reduced-res`` suite passes to its metrics (one value for all)."""
    cuts = {int(c.params["dim_cut"]) for e in REDUCED_RES.entries for c in e.metrics if "dim_cut" in c.params}
    if len(cuts) != 1:
        raise RuntimeError(f"reduced-res suite has dim_cut values {sorted(cuts)}; pass --dim-cut")
    return cuts.pop()


def _augment(x: np.ndarray, i: int) -> np.ndarray:
    """Eight dihedral variants of a (C,H,W) image, cycled."""
    x = np.rot90(x, i % 4, axes=(-2, -1))
    return np.ascontiguousarray(x[..., ::-1] if (i // 4) % 2 else x)


def rr_batch(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, str]:
    path = SHARED / "cdif_WV3_test_RR.mat"
    if path.is_file():
        import scipy.io as sio

        from fusionbench.imaging import interp23tap

        d = sio.loadmat(path)
        gt = d["gt"].transpose(2, 0, 1) * 2047.0
        exp = interp23tap(d["lrms"].transpose(2, 0, 1) * 2047.0, 4)
        source = "real WV3 RR sample (dihedral variants + noise)"
    else:
        yy, xx = np.mgrid[:256, :256] / 256.0
        gt = np.stack([800 + 400 * np.sin(9 * xx + b) * np.cos(7 * yy - b) for b in range(8)])
        exp = gt + rng.normal(0, 30, gt.shape)
        source = "synthetic texture"
    refs, preds = [], []
    for i in range(N_IMAGES):
        refs.append(_augment(gt, i))
        preds.append(np.clip(_augment(exp, i) + rng.normal(0, 5, gt.shape), 0, None))
    return torch.from_numpy(np.stack(preds)), torch.from_numpy(np.stack(refs)), source


def fr_batch(rng: np.random.Generator) -> tuple[dict[str, torch.Tensor], torch.Tensor, str]:
    from fusionbench.imaging import interp23tap

    path = SHARED / "zpnn_WV3_example_FR.mat"
    if path.is_file():
        import scipy.io as sio

        d = sio.loadmat(path)
        ms = d["I_MS_LR"].astype(np.float64).transpose(2, 0, 1)  # 8x32x32
        pan = d["I_PAN"].astype(np.float64)  # 128x128
        ms = np.tile(ms, (1, 4, 4))  # 8x128x128 (tiled to the 512 PAN size)
        pan = np.tile(pan, (4, 4))
        source = "real WV3 FR crop (tiled 4x4 to 512x512, dihedral variants)"
    else:
        yy, xx = np.mgrid[:512, :512] / 512.0
        pan = 900 + 500 * np.sin(40 * xx) * np.cos(33 * yy) + rng.normal(0, 20, (512, 512))
        ms = np.stack([pan[2::4, 2::4] * (0.6 + 0.05 * b) for b in range(8)])
        source = "synthetic texture"
    lms_l, pan_l, ms_l, pred_l = [], [], [], []
    for i in range(N_IMAGES):
        m = _augment(ms, i)
        p = _augment(pan[None], i)
        lm = interp23tap(m, 4)
        ms_l.append(m)
        pan_l.append(p)
        lms_l.append(lm)
        pred_l.append(np.clip(lm + 0.3 * (p - p.mean()) + rng.normal(0, 3, lm.shape), 0, None))
    inputs = {k: torch.from_numpy(np.stack(v)) for k, v in (("ms", ms_l), ("lms", lms_l), ("pan", pan_l))}
    return inputs, torch.from_numpy(np.stack(pred_l)), source


def ivf_batch(rng: np.random.Generator, n: int = 10) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``n`` grey 480x640 IVF triples in 0-255: IR warm blobs, VI texture and edges, fused = mean."""
    yy, xx = np.mgrid[:480, :640] / 640.0
    ir_l, vi_l = [], []
    for i in range(n):
        blobs = sum(np.exp(-((xx - c) ** 2 + (yy - d) ** 2) / 0.002) for c, d in rng.uniform(0.1, 0.7, (6, 2)))
        ir_l.append(np.clip(60 + 180 * blobs + rng.normal(0, 4, xx.shape), 0, 255))
        edges = (np.sin(40 * xx + i) > 0) * 60 + 90 * np.cos(11 * yy - i) ** 2
        vi_l.append(np.clip(40 + edges + rng.normal(0, 6, xx.shape), 0, 255))
    ir = torch.from_numpy(np.round(np.stack(ir_l)))[:, None]
    vi = torch.from_numpy(np.round(np.stack(vi_l)))[:, None]
    return (ir + vi) / 2, {"ir": ir, "vi": vi}


def timed(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (imports, kernel caches)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ssim_previous(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """The Gaussian SSIM when the speed targets were set: five maps, each through two separable
    1-D passes that multiply an unfolded view by the taps (kept here, frozen, as the baseline)."""
    from fusionbench.metrics.ssim import _gaussian_taps, _ssim_map

    g = _gaussian_taps(x)

    def f(t: torch.Tensor) -> torch.Tensor:
        rows = t.unfold(-1, g.numel(), 1) @ g
        return (rows.transpose(-1, -2).contiguous().unfold(-1, g.numel(), 1) @ g).transpose(-1, -2)

    mu_x, mu_y = f(x), f(y)
    var_x, var_y, cov = f(x * x) - mu_x * mu_x, f(y * y) - mu_y * mu_y, f(x * y) - mu_x * mu_y
    return _ssim_map(mu_x, mu_y, var_x, var_y, cov, data_range).mean((-2, -1))


def load_piq_ssim() -> Callable[..., torch.Tensor] | None:
    """``piq.ssim`` without running ``piq/__init__`` (which imports torchvision), or None."""
    import importlib
    import importlib.util
    import sys
    import types

    spec = importlib.util.find_spec("piq")
    if spec is None or not spec.submodule_search_locations:
        return None
    if "piq" not in sys.modules:
        package = types.ModuleType("piq")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["piq"] = package
    return importlib.import_module("piq.ssim").ssim


def ssim_comparison(pred: torch.Tensor, ref: torch.Tensor, card: DataCard, repeats: int) -> list[str]:
    """SSIM now vs before vs piq float32 on the RR batch (every band as an image, 0-255)."""
    from fusionbench.metrics.ssim import ssim_gaussian

    scale = 255.0 / card.max_value
    x, y = (ref * scale).clamp(0, 255), (pred * scale).clamp(0, 255)
    t_new = timed(lambda: ssim_gaussian(x, y, 255.0), repeats)  # groups bands itself, as the metric runs it
    t_old = timed(lambda: chunked(lambda a, b: ssim_previous(a, b, 255.0), x, y), repeats)
    diff = float(((ssim_gaussian(x, y) - ssim_previous(x, y, 255.0)).abs()).max())
    lines = [
        f"  ssim (banded bmm, float64)    {t_new:7.3f} s   previous (unfolded passes) {t_old:7.3f} s   "
        f"speed-up x{t_old / t_new:.1f}   max |diff| {diff:.1e}"
    ]
    piq_ssim = load_piq_ssim()
    if piq_ssim is None:
        lines.append("  piq.ssim float32: piq not installed (pip install --no-deps piq==0.8.0)")
        return lines
    xf, yf = (x / 255.0).float(), (y / 255.0).float()

    def run() -> torch.Tensor:
        return piq_ssim(xf, yf, data_range=1.0, kernel_size=11, kernel_sigma=1.5, reduction="none", downsample=False)

    # piq and ours alternate, so a slow spell of a shared machine hits both: the ratio is the
    # median of the per-pair ratios
    run()
    pairs = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        ssim_gaussian(x, y, 255.0)
        pairs.append((t1 - t0, time.perf_counter() - t1))
    t_piq = statistics.median(p for p, _ in pairs)
    ratio = statistics.median(p / o for p, o in pairs)
    lines.append(
        f"  piq.ssim float32 (11x11 conv2d) {t_piq:7.3f} s   ours float64 is x{ratio:.1f} faster "
        f"(median of {len(pairs)} alternating pairs)   mean SSIM ours {float(ssim_gaussian(x, y).mean()):.6f} "
        f"piq {float(run().mean()):.6f}"
    )
    return lines


def calibration() -> str:
    """A fixed workload, so figures from a loaded or slow machine can be put in proportion:
    a 1024^2 float64 matmul (2.1 GFLOP) and 50 multiplies of 2^20 doubles (memory bound)."""
    a = torch.rand(1024, 1024, dtype=torch.float64)
    x = torch.rand(1 << 20, dtype=torch.float64)
    t_mm = timed(lambda: a @ a, 3)
    t_ew = timed(lambda: [x * x for _ in range(50)], 3)
    return f"calibration: matmul 1024^2 {1000 * t_mm:.1f} ms, 50 x 2^20 multiplies {1000 * t_ew:.1f} ms"


def load() -> str:
    """The machine's load average: figures from a shared machine are only comparable side by side."""
    import os

    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-images", type=int, default=N_IMAGES, help="images for the NumPy loop baselines")
    parser.add_argument(
        "--dim-cut", type=int, default=None, help="border cut for the RR metrics (default: the reduced-res suite's, 0)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    args = parser.parse_args()
    if args.dim_cut is None:
        args.dim_cut = suite_dim_cut()
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    specs = {s.name: s for s in metric_specs()}
    wv3 = get_sensor("WV3")
    card = DataCard(sensor="WV3", ratio=4, bands=8, max_value=2047.0, mtf_gnyq=wv3.ms_gnyq, pan_gnyq=wv3.pan_gnyq)
    rows: list[tuple[str, str, float, str]] = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; float64; median of {args.repeats} runs")
    print(load())
    print(calibration())
    print(f"{'protocol':<9} {'metric':<11} {'seconds':>9} {'ms/image':>9}  mean value", flush=True)

    def report(protocol: str, name: str, t: float, value: str) -> None:
        rows.append((protocol, name, t, value))
        print(f"{protocol:<9} {name:<11} {t:9.3f} {1000 * t / N_IMAGES:9.1f}  {value}", flush=True)

    pred, ref, rr_source = rr_batch(rng)
    total_rr = 0.0
    for name in RR_METRICS:
        metric = build(specs[name], **{k: p.default for k, p in specs[name].params.items()} | {"dim_cut": args.dim_cut})
        t = timed(lambda: metric(pred, ref, {}, card), args.repeats)
        total_rr += t
        report("reduced", name, t, f"{float(metric(pred, ref, {}, card).mean()):.6f}")

    inputs, fused, fr_source = fr_batch(rng)
    total_fr = 0.0
    for name in FR_METRICS:
        metric = build(specs[name], **{k: p.default for k, p in specs[name].params.items()})
        t = timed(lambda: metric(fused, None, inputs, card), args.repeats)
        total_fr += t
        report("full", name, t, f"{float(metric(fused, None, inputs, card).mean()):.6f}")

    # -- NumPy per-image loops ---------------------------------------------------------------------
    from fusionbench.imaging import crop_border

    n = min(args.naive_images, N_IMAGES)
    hwc = lambda t: t.numpy().transpose(1, 2, 0)  # noqa: E731
    cut_pred, cut_ref = crop_border(pred[:n], args.dim_cut), crop_border(ref[:n], args.dim_cut)
    q2n_metric = build(specs["q2n"], dim_cut=args.dim_cut, block=32, shift=32)
    t_q2n = timed(lambda: q2n_metric(pred[:n], ref[:n], {}, card), args.repeats)
    t_q2n_np = timed(lambda: [naive.q2n(hwc(cut_ref[i]), hwc(cut_pred[i])) for i in range(n)], 1)
    ds_metric = build(specs["d-s"], block=32, ratio="card", q=1.0)
    sub = {k: v[:n] for k, v in inputs.items()}
    t_ds = timed(lambda: ds_metric(fused[:n], None, sub, card), args.repeats)
    t_ds_np = timed(
        lambda: [naive.d_s(hwc(fused[i]), hwc(sub["lms"][i]), sub["pan"][i, 0].numpy(), 4) for i in range(n)], 1
    )

    print(f"\nreduced resolution: {N_IMAGES} x 8x256x256 DN, dim_cut={args.dim_cut}; data: {rr_source}")
    print(f"full resolution:    {N_IMAGES} x 8x512x512 DN + PAN; data: {fr_source}")
    print(f"{'reduced':<9} {'ALL':<11} {total_rr:9.3f} {1000 * total_rr / N_IMAGES:9.1f}  (goal < 2 s)")
    print(f"{'full':<9} {'ALL':<11} {total_fr:9.3f} {1000 * total_fr / N_IMAGES:9.1f}  (goal < 10 s)")
    print(calibration())
    print(f"\nNumPy per-image loops on {n} images (goal: torch >= x10):")
    print(f"  q2n  numpy {t_q2n_np:8.3f} s   torch {t_q2n:7.3f} s   speed-up x{t_q2n_np / t_q2n:.1f}")
    print(f"  d-s  numpy {t_ds_np:8.3f} s   torch {t_ds:7.3f} s   speed-up x{t_ds_np / t_ds:.1f}")
    from fusionbench.components.suites import IVF_VIFB

    fused_ivf, sources = ivf_batch(rng)
    ivf_card = DataCard(max_value=255.0)
    print(f"\nIVF metrics, VIFB profile ({fused_ivf.shape[0]} grey 480x640 triples):")
    total_ivf = 0.0
    for component in IVF_VIFB.entries[0].metrics:
        metric = build(
            specs[component.name],
            **{k: p.default for k, p in specs[component.name].params.items()} | dict(component.params),
        )
        t = timed(lambda: metric(fused_ivf, None, sources, ivf_card), args.repeats)
        total_ivf += t
        print(f"  {component.name:<12} {t:7.3f} s {1000 * t / fused_ivf.shape[0]:8.1f} ms/image", flush=True)
    print(f"  {'ALL':<12} {total_ivf:7.3f} s {1000 * total_ivf / fused_ivf.shape[0]:8.1f} ms/image")
    print(f"\nGaussian SSIM on the RR batch ({N_IMAGES} x 8 bands of 256x256; goals: x5 previous, x3 piq float32):")
    for line in ssim_comparison(pred, ref, card, args.repeats):
        print(line)
    print(load())


if __name__ == "__main__":
    main()

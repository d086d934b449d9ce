"""DDIF inference speed: images/s, ms per sampling step and the network's FLOPs.

Runs the real inference path (``DDIF.fuse`` with a DDIM sampler: condition building, the
sampling loop, de-normalisation) on randomly initialised weights — speed does not depend on the
weights. FLOPs of one network evaluation are counted with ``torch.utils.flop_counter`` on the
meta device (no compute). Images/s is for 25 sampling steps:

* default (quick): 128×128, batch 1, a few timed steps per configuration, extrapolated to 25
  steps (the per-step cost dominates; the loop overhead is measured to be negligible);
* ``--full``: 256×256, batch 1 and 8, all 25 steps timed (the figures quoted in reports).

On CUDA it also runs bf16 and fp16 autocast. Examples::

    python benchmarks/sampling.py                      # quick, CPU (+ GPU when present)
    python benchmarks/sampling.py --full --device cuda
    python benchmarks/sampling.py --presets paper --sizes 256 --batches 1,8 --timed-steps 25
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from fusionbench.diffusion.samplers import DDIMSampler
from fusionbench_ddif.model import DDIF
from fusionbench_ddif.network import NetworkConfig, UNetSR3, count_parameters
from fusionbench_ddif.presets import PRESETS
from fusionbench_ddif.testing import pansharpening_batch, random_checkpoint

STEPS = 25


@dataclass
class Row:
    preset: str
    params: int
    device: str
    precision: str
    batch: int
    size: int
    timed_steps: int
    ms_per_step: float
    gflop_per_step: float
    achieved_gflops: float
    images_per_s: float  # at 25 steps


def network_gflop(network: dict, batch: int, size: int) -> float:
    """GFLOP of one forward pass (multiply-add = 2 FLOP), counted on the meta device."""
    config = NetworkConfig(8, 1, **network)
    with torch.device("meta"):
        net = UNetSR3(config).eval()
        x = torch.empty(batch, 8, size, size)
        cond = torch.empty(batch, config.cond_channels, size, size)
        t = torch.empty(batch)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x, t, cond)
    return counter.get_total_flops() / 1e9


def measure(preset: str, device: str, precision: str, batch: int, size: int, timed_steps: int, workdir: Path) -> Row:
    network = PRESETS[preset].network
    checkpoint = random_checkpoint(workdir / preset, **network)
    model = DDIF(preset=preset, precision=precision)
    model.load(checkpoint, device=device)
    fusion = pansharpening_batch(size, size, batch=batch)
    fusion.inputs = {k: v.to(device) for k, v in fusion.inputs.items()}  # type: ignore[misc]
    generator = torch.Generator(device=device).manual_seed(0)

    def run(steps: int) -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.fuse(fusion, sampler=DDIMSampler(steps=steps), generator=generator)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    run(1)  # warm-up (allocations, cuDNN autotuning, lazy init)
    seconds = run(timed_steps)
    per_step = seconds / timed_steps
    gflop = network_gflop(network, batch, size)
    return Row(
        preset=preset,
        params=count_parameters(model.net),
        device=device if device == "cpu" else torch.cuda.get_device_name(torch.device(device)),
        precision=precision,
        batch=batch,
        size=size,
        timed_steps=timed_steps,
        ms_per_step=1000 * per_step,
        gflop_per_step=gflop,
        achieved_gflops=gflop / per_step,
        images_per_s=batch / (per_step * STEPS),
    )


def markdown(rows: list[Row]) -> str:
    head = "| preset | params | device | precision | batch | size | ms/step | GFLOP/step | GFLOP/s | images/s (25 steps) | timed steps |"
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r.preset} | {r.params:,} | {r.device} | {r.precision} | {r.batch} | {r.size}² | {r.ms_per_step:,.1f} | "
            f"{r.gflop_per_step:,.1f} | {r.achieved_gflops:,.1f} | {r.images_per_s:.4g} | {r.timed_steps} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="256×256, batch 1 and 8, all 25 steps timed")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all")
    parser.add_argument("--presets", default="tiny,paper", help="comma-separated DDIF presets")
    parser.add_argument("--sizes", help="comma-separated image sizes (default 128; --full: 256)")
    parser.add_argument("--batches", help="comma-separated batch sizes (default 1; --full: 1,8)")
    parser.add_argument(
        "--timed-steps", type=int, help="sampling steps timed per configuration (default 2; --full: 25)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in (args.sizes or ("256" if args.full else "128")).split(",")]
    batches = [int(b) for b in (args.batches or ("1,8" if args.full else "1")).split(",")]
    timed = args.timed_steps or (STEPS if args.full else 2)
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(("cpu", ("fp32",)))
    if args.device in ("cuda", "all"):
        if torch.cuda.is_available():
            devices.append(("cuda", ("fp32", "bf16", "fp16")))
        elif args.device == "cuda":
            print("no CUDA device available", file=sys.stderr)
            return 1
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for device, precisions in devices:
            for preset in args.presets.split(","):
                for precision in precisions:
                    for size in sizes:
                        for batch in batches:
                            row = measure(preset, device, precision, batch, size, timed, Path(tmp))
                            rows.append(row)
                            print(
                                f"{preset:8s} {device:5s} {precision:5s} b{batch} {size}²: {row.ms_per_step:10.1f} ms/step  {row.images_per_s:.4g} img/s",
                                file=sys.stderr,
                                flush=True,
                            )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


# ============================================================================================
# SSDiff section (owned by the SSDiff plugin; appended — the DDIF code above is unchanged).
#
#   python benchmarks/sampling.py ssdiff                 # quick: 128², tiny + paper, CPU (+ GPU)
#   python benchmarks/sampling.py ssdiff --full          # 256² and 512² (full resolution), 10 steps timed
#   python benchmarks/sampling.py ssdiff --presets paper --sizes 256 --timed-steps 10 --device cuda
#
# SSDiff always samples on overlapping tiles (fusionbench.tiling; its level-1 attention is
# quadratic in the tile), so an image costs tiles × steps network evaluations on tile-sized
# inputs. ms/step and GFLOP/step are per image (all its tiles); images/s is for 10 steps.
# A second table puts DDIF beside it (same presets, sizes, device and process; ``measure``
# above, batch 1): seconds per image at each model's default step count (SSDiff 10, DDIF 25);
# ``--no-ddif`` skips it.
# ============================================================================================

SSDIFF_STEPS = 10


@dataclass
class SSDiffRow:
    preset: str
    params: int
    device: str
    precision: str
    size: int
    tile: int
    overlap: int
    tiles: int
    timed_steps: int
    ms_per_step: float
    gflop_per_step: float
    achieved_gflops: float
    images_per_s: float  # at 10 steps


def ssdiff_batch(size: int, bands: int = 8, seed: int = 0) -> FusionBatch:  # noqa: F821 - imported inside
    """A random WV3-like FusionBatch (values in 0…2047) of PAN size ``size``."""
    from fusionbench.protocols import FusionBatch
    from fusionbench.specs import DataCard

    g = torch.Generator().manual_seed(seed)
    card = DataCard(sensor="WV3", ratio=4, bands=bands, max_value=2047.0)
    ms = torch.rand(1, bands, size // 4, size // 4, generator=g, dtype=torch.float64) * 1600
    lms = torch.nn.functional.interpolate(ms, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 2047)
    pan = lms.mean(1, keepdim=True) + 50 * torch.rand(1, 1, size, size, generator=g, dtype=torch.float64)
    return FusionBatch(("bench",), {"pan": pan, "lms": lms, "ms": ms}, card)


def ssdiff_tile_gflop(network: dict, tiles: int, tile: int) -> float:
    """GFLOP of one SSNet evaluation on ``tiles`` tiles (multiply-add = 2 FLOP), on the meta device."""
    from fusionbench_ssdiff.network import NetworkConfig as SSNetConfig
    from fusionbench_ssdiff.network import SSNet

    with torch.device("meta"):
        net = SSNet(SSNetConfig(channels=8, **network)).eval()
        lms, pan = torch.empty(tiles, 8, tile, tile), torch.empty(tiles, 1, tile, tile)
        ms, t = torch.empty(tiles, 8, tile // 4, tile // 4), torch.empty(tiles)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(lms, pan, ms, lms, t)
    return counter.get_total_flops() / 1e9


def ssdiff_measure(preset: str, device: str, precision: str, size: int, timed_steps: int, workdir: Path) -> SSDiffRow:
    from fusionbench.tiling import plan_tiles
    from fusionbench.training.checkpoint import save_checkpoint
    from fusionbench_ssdiff.model import SSDiff
    from fusionbench_ssdiff.network import NetworkConfig as SSNetConfig
    from fusionbench_ssdiff.network import SSNet
    from fusionbench_ssdiff.presets import PRESETS as SSDIFF_PRESETS

    network = SSDIFF_PRESETS[preset].network
    config = SSNetConfig(channels=8, **network)
    path = save_checkpoint(
        workdir / f"ssdiff-{preset}",
        model_state=SSNet(config).state_dict(),
        config={"model": {"network": config.to_dict(), "timesteps": 1000, "schedule": "cosine"}},
    )
    model = SSDiff(preset=preset, precision=precision)
    model.load(path, device=device)
    fusion = ssdiff_batch(size)
    fusion.inputs = {k: v.to(device) for k, v in fusion.inputs.items()}  # type: ignore[misc]
    generator = torch.Generator(device=device).manual_seed(0)

    def run(steps: int) -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.fuse(fusion, sampler=DDIMSampler(steps=steps), generator=generator)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    run(1)  # warm-up
    per_step = run(timed_steps) / timed_steps
    plan = plan_tiles(size, size, model.tile, model.overlap, align=4)
    gflop = ssdiff_tile_gflop(network, len(plan), plan.tile[0])
    return SSDiffRow(
        preset=preset,
        params=sum(p.numel() for p in model.net.parameters()),  # type: ignore[union-attr]
        device=device if device == "cpu" else torch.cuda.get_device_name(torch.device(device)),
        precision=precision,
        size=size,
        tile=plan.tile[0],
        overlap=model.overlap,
        tiles=len(plan),
        timed_steps=timed_steps,
        ms_per_step=1000 * per_step,
        gflop_per_step=gflop,
        achieved_gflops=gflop / per_step,
        images_per_s=1 / (per_step * SSDIFF_STEPS),
    )


def ssdiff_markdown(rows: list[SSDiffRow]) -> str:
    head = "| preset | params | device | precision | size | tile / overlap | tiles | ms/step | GFLOP/step | GFLOP/s | images/s (10 steps) | timed steps |"
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r.preset} | {r.params:,} | {r.device} | {r.precision} | {r.size}² | {r.tile} / {r.overlap} | {r.tiles} | "
            f"{r.ms_per_step:,.1f} | {r.gflop_per_step:,.1f} | {r.achieved_gflops:,.1f} | {r.images_per_s:.4g} | {r.timed_steps} |"
        )
    return "\n".join(lines)


def ssdiff_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sampling.py ssdiff", description="SSDiff inference speed (tiled DDIM, 10 steps)"
    )
    parser.add_argument("--full", action="store_true", help="256² and 512², all 10 steps timed")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all")
    parser.add_argument("--presets", default="tiny,paper", help="comma-separated SSDiff presets")
    parser.add_argument("--sizes", help="comma-separated PAN sizes (default 128; --full: 256,512)")
    parser.add_argument(
        "--timed-steps", type=int, help="sampling steps timed per configuration (default 1; --full: 10)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--no-ddif", action="store_true", help="do not time DDIF beside SSDiff")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in (args.sizes or ("256,512" if args.full else "128")).split(",")]
    timed = args.timed_steps or (SSDIFF_STEPS if args.full else 1)
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(("cpu", ("fp32",)))
    if args.device in ("cuda", "all"):
        if torch.cuda.is_available():
            devices.append(("cuda", ("fp32", "bf16")))
        elif args.device == "cuda":
            print("no CUDA device available", file=sys.stderr)
            return 1
    rows: list[SSDiffRow] = []
    beside: list[
        tuple[str, str, str, str, int, int, float]
    ] = []  # model, preset, device, precision, size, steps, s/image
    with tempfile.TemporaryDirectory() as tmp:
        for device, precisions in devices:
            for preset in args.presets.split(","):
                for precision in precisions:
                    for size in sizes:
                        row = ssdiff_measure(preset, device, precision, size, timed, Path(tmp))
                        rows.append(row)
                        beside.append(
                            ("SSDiff", preset, row.device, precision, size, SSDIFF_STEPS, 1 / row.images_per_s)
                        )
                        print(
                            f"ssdiff {preset:8s} {device:5s} {precision:5s} {size}² ({row.tiles} tiles): {row.ms_per_step:10.1f} ms/step  {row.images_per_s:.4g} img/s",
                            file=sys.stderr,
                            flush=True,
                        )
                        if not args.no_ddif:
                            ddif = measure(preset, device, precision, 1, size, timed, Path(tmp))
                            beside.append(("DDIF", preset, ddif.device, precision, size, STEPS, 1 / ddif.images_per_s))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    print(ssdiff_markdown(rows))
    if beside and not args.no_ddif:
        print("\n| model | preset | device | precision | size | default steps | s/image |")
        print("|---|---|---|---|---|---|---|")
        for model, preset, device, precision, size, steps, seconds in beside:
            print(f"| {model} | {preset} | {device} | {precision} | {size}² | {steps} | {seconds:,.2f} |")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "ssdiff":
    raise SystemExit(ssdiff_main(sys.argv[2:]))
# ============================================================================================ end of SSDiff section


# ==================================================================================================
# DDFM section (the DDFM plugin's sampling figures).
# Seconds per 256×256 image, 100 sampling steps.
#
#   python benchmarks/sampling.py ddfm                      # tiny prior on the CPU (+ paper on a GPU)
#   python benchmarks/sampling.py ddfm --presets tiny,paper --device cpu --timed-steps 2
#
# The real path (``DDFM.fuse``: normalisation, padding, the sampler loop with the EM x0-correction
# on every step, the output stretch) with the default DDPM sampler; the ``paper`` prior (552.8 M
# parameters) gets random weights — speed does not depend on them. ``--timed-steps`` fewer than
# 100 are extrapolated (the per-step cost dominates). GFLOP per network call is counted on the
# meta device. The EM step's own share is timed separately.
# ==================================================================================================


@dataclass
class DdfmRow:
    preset: str
    params: int
    device: str
    size: int
    timed_steps: int
    s_per_step: float
    cpu_s_per_step: float  # process CPU time: on a busy machine the better guide to an idle one
    em_ms_per_step: float
    gflop_per_step: float
    s_per_image: float  # at 100 steps


def _ddfm_prior(preset: str, device: str):
    from fusionbench.diffusion.schedules import linear_schedule
    from fusionbench_ddfm.model import DDFM
    from fusionbench_ddfm.prior import Prior
    from fusionbench_ddfm.unet import PAPER_CONFIG, GuidedDiffusionUNet

    model = DDFM(preset=preset)
    if preset == "tiny":
        model.load(device=device)
    else:
        with torch.device("meta"):
            net = GuidedDiffusionUNet(PAPER_CONFIG)
        net = net.to_empty(device=device)
        for p in net.parameters():
            p.data.normal_(0.0, 0.02)
        model.prior = Prior(net=net.eval(), schedule=linear_schedule(1000), source=Path("random"))
    return model


def ddfm_measure(preset: str, device: str, size: int, timed_steps: int) -> DdfmRow:
    from fusionbench.diffusion.samplers import DDPMSampler
    from fusionbench.protocols import FusionBatch
    from fusionbench.specs import DataCard
    from fusionbench_ddfm.em import EMState, em_step
    from fusionbench_ddfm.unet import count_parameters

    model = _ddfm_prior(preset, device)
    net = model.prior.net
    g = torch.Generator().manual_seed(0)
    ir = (torch.rand(1, 1, size, size, generator=g, dtype=torch.float64) * 255).to(device)
    vi = (torch.rand(1, 1, size, size, generator=g, dtype=torch.float64) * 255).to(device)
    batch = FusionBatch(("bench",), {"ir": ir, "vi": vi}, DataCard(max_value=255.0))

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def run(steps: int) -> tuple[float, float]:
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.no_grad():
            model.fuse(
                batch,
                sampler=DDPMSampler(steps=steps, respacing="even"),
                generator=torch.Generator(device=device).manual_seed(0),
            )
        sync()
        return time.perf_counter() - t0, time.process_time() - c0

    run(1)  # warm-up
    wall, cpu = run(timed_steps)
    per_step, cpu_per_step = wall / timed_steps, cpu / timed_steps
    i = torch.rand(1, 1, size, size, dtype=torch.float64, device=device) * 2 - 1
    state = EMState.initial(i)
    sync()
    t0 = time.perf_counter()
    for _ in range(10):
        em_step(0.5 * i, i, -i, state, "paper")
    sync()
    em_ms = (time.perf_counter() - t0) / 10 * 1000
    with torch.device("meta"):
        from fusionbench_ddfm.unet import GuidedDiffusionUNet

        meta = GuidedDiffusionUNet(net.config).eval()
        x = torch.empty(1, net.config.in_channels, size, size)
        t = torch.empty(1)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(x, t)
    return DdfmRow(
        preset=preset,
        params=count_parameters(net),
        device=device if device == "cpu" else torch.cuda.get_device_name(torch.device(device)),
        size=size,
        timed_steps=timed_steps,
        s_per_step=per_step,
        cpu_s_per_step=cpu_per_step,
        em_ms_per_step=em_ms,
        gflop_per_step=counter.get_total_flops() / 1e9,
        s_per_image=per_step * 100,
    )


def ddfm_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/sampling.py ddfm", description="DDFM seconds per image (100 steps)"
    )
    parser.add_argument("--presets", default="tiny,paper", help="tiny (shipped prior) and/or paper (random weights)")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--timed-steps", type=int, default=10, help="steps timed (extrapolated to 100)")
    parser.add_argument("--paper-on-cpu", action="store_true", help="also time the 552.8 M prior on the CPU (slow)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    plan = []
    for preset in args.presets.split(","):
        if args.device in ("cpu", "all") and (preset == "tiny" or args.paper_on_cpu):
            plan.append((preset, "cpu"))
        if args.device in ("cuda", "all") and torch.cuda.is_available():
            plan.append((preset, "cuda"))
    rows = []
    for preset, device in plan:
        steps = args.timed_steps if not (preset == "paper" and device == "cpu") else min(args.timed_steps, 2)
        row = ddfm_measure(preset, device, args.size, steps)
        rows.append(row)
        print(
            f"ddfm {preset:6s} {device:5s} {args.size}²: {row.s_per_step:8.3f} s/step, {row.s_per_image:8.1f} s/image",
            file=sys.stderr,
            flush=True,
        )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    print(
        "| preset | params | device | size | s/step (wall) | CPU s/step | EM ms/step | GFLOP/step | s/image (100 steps, wall) | timed steps |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.preset} | {r.params:,} | {r.device} | {r.size}² | {r.s_per_step:.3f} | {r.cpu_s_per_step:.3f} | "
            f"{r.em_ms_per_step:.1f} | {r.gflop_per_step:,.1f} | {r.s_per_image:,.1f} | {r.timed_steps} |"
        )
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["ddfm"]:
    raise SystemExit(ddfm_main(sys.argv[2:]))
# ============================================================================================ end of DDFM section


if __name__ == "__main__":
    raise SystemExit(main())

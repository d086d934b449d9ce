"""Which devices runs may use here: the GPUs torch can see, ``--devices``, and their memory.

Why its own module: the local and inline executors place runs on these devices and the planner
checks models' :class:`~fusionbench.specs.Requirements` against the same answer; with the
discovery inside one executor, the planner had to reach into it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fusionbench.errors import FusionbenchError


def _cuda_device_count() -> int:
    """How many CUDA devices torch can use here; 0 without torch, a CUDA build or a driver.

    torch is imported here, lazily: only commands that run something get this far.
    ``is_available`` / ``device_count`` query the driver without creating a CUDA context, so the
    spawned workers are unaffected.
    """
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no torch / no driver means no GPU
        return 0


def visible_gpus() -> list[str]:
    """Labels of the GPUs this process can use: the entries of ``CUDA_VISIBLE_DEVICES`` when it
    is set (so a worker can be pinned to one with the same value), else ``0..n-1``.

    ``[]`` whenever torch sees no usable CUDA device, whatever ``CUDA_VISIBLE_DEVICES`` says:
    ``CUDA_VISIBLE_DEVICES=0`` on a CPU-only machine (or with a CPU build of torch) means CPU
    workers, not GPU workers that cannot start.
    """
    count = _cuda_device_count()
    if count == 0:
        return []
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return [str(i) for i in range(count)]
    # CUDA enumerates entries up to the first invalid one ("-1" hides the rest): count says how many
    return [d.strip() for d in env.split(",") if d.strip()][:count]


def explicit_gpus(devices: Sequence[str] | None) -> list[str]:
    """GPU labels given with ``--devices`` (``cpu`` entries dropped); refuses them, clearly, when
    torch sees no CUDA device at all."""
    gpus = [d for d in (devices or ()) if d != "cpu"]
    if gpus and _cuda_device_count() == 0:
        raise FusionbenchError(
            f"--devices {','.join(gpus)}: torch sees no CUDA device here "
            "(torch.cuda.is_available() is False); leave out --devices to run on the CPU"
        )
    return gpus


@dataclass(frozen=True)
class Machine:
    """The devices runs will get, for checking models' :class:`~fusionbench.specs.Requirements`.

    ``gpu_mem_gb``: total memory of each GPU runs may use (empty: CPU only); ``None``: unknown
    (runs placed by an executor the planner cannot see into, such as Ray), nothing is checked.
    """

    gpu_mem_gb: tuple[float, ...] | None = ()

    @classmethod
    def unknown(cls) -> Machine:
        return cls(gpu_mem_gb=None)

    @classmethod
    def detect(cls, devices: Sequence[str] | None = None) -> Machine:
        """This machine as the local executors use it: ``devices`` (GPU labels as ``--devices``
        takes them) or every visible GPU; imports torch."""
        labels = explicit_gpus(devices) if devices else visible_gpus()
        if not labels:
            return cls(())
        import torch

        visible = visible_gpus()
        sizes = []
        for label in labels:
            try:  # a GPU this process cannot see or query is assumed large enough
                size = torch.cuda.get_device_properties(visible.index(label)).total_memory / 2**30
            except Exception:  # noqa: BLE001
                size = float("inf")
            sizes.append(size)
        return cls(tuple(sizes))

    def refuses(self, model: str, requires: Any) -> str | None:
        """Why ``model`` cannot run here, or None."""
        if self.gpu_mem_gb is None:
            return None
        if not self.gpu_mem_gb:
            if not requires.cpu_ok:
                return f"model {model!r} needs a GPU (cpu_ok=False) and none is available here"
            return None
        wanted = float(requires.min_gpu_mem_gb or 0.0)
        largest = max(self.gpu_mem_gb)
        if wanted > 0 and largest < wanted:
            return (
                f"model {model!r} needs a GPU with at least {wanted:g} GB of memory; "
                f"the largest available has {largest:.1f} GB"
            )
        return None

"""The four fusion tasks and the sample fields each one hands to models and metrics.

Arrays are channel-first ``(C, H, W)`` in the dataset's native units (see
:class:`fusionbench.specs.DataCard`). The output of a model has the channel count of
``output_channels_from`` and the spatial size of ``output_size_from``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    description: str
    channels: int | None = None  # fixed channel count, or None when the data card decides


@dataclass(frozen=True)
class TaskSpec:
    name: str
    description: str
    inputs: tuple[FieldSpec, ...]
    reference: str | None
    protocols: tuple[str, ...]
    output_channels_from: str
    output_size_from: str

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.inputs)


TASKS: dict[str, TaskSpec] = {
    "pansharpening": TaskSpec(
        name="pansharpening",
        description="PAN + low-resolution MS -> high-resolution MS",
        inputs=(
            FieldSpec("pan", "panchromatic band at full resolution", channels=1),
            FieldSpec("ms", "multispectral image at 1/ratio resolution"),
            FieldSpec("lms", "MS upsampled to PAN size (23-tap interpolator)"),
        ),
        reference="gt",
        protocols=("reduced", "full"),
        output_channels_from="ms",
        output_size_from="pan",
    ),
    "mhif": TaskSpec(
        name="mhif",
        description="HR multispectral (RGB) + LR hyperspectral -> HR hyperspectral",
        inputs=(
            FieldSpec("hrmsi", "high-resolution multispectral image (RGB)", channels=3),
            FieldSpec("lrhsi", "low-resolution hyperspectral image"),
            FieldSpec("hsi_up", "LR-HSI upsampled to HR size"),
        ),
        reference="gt",
        protocols=("reduced",),
        output_channels_from="lrhsi",
        output_size_from="hrmsi",
    ),
    "ivf": TaskSpec(
        name="ivf",
        description="infrared + visible -> fused luminance (colour restored from the visible CbCr)",
        inputs=(
            FieldSpec("ir", "infrared image, grey", channels=1),
            FieldSpec("vi", "visible image luminance (Y)", channels=1),
        ),
        reference=None,
        protocols=("none",),
        output_channels_from="ir",
        output_size_from="ir",
    ),
    "mif": TaskSpec(
        name="mif",
        description="MRI + CT/PET/SPECT -> fused luminance (colour restored from the functional CbCr)",
        inputs=(
            FieldSpec("mri", "MRI slice, grey", channels=1),
            FieldSpec("other", "CT, PET or SPECT luminance (Y)", channels=1),
        ),
        reference=None,
        protocols=("none",),
        output_channels_from="mri",
        output_size_from="mri",
    ),
}


def get_task(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None

"""Hook implementations: import-light (no torch); factories are lazy import strings."""

from __future__ import annotations

from fusionbench import ModelSpec, hookimpl

_PANSHARPENING = frozenset({"pansharpening"})


@hookimpl
def fusionbench_register_models():
    return [
        ModelSpec(
            name="exp",
            version="1",
            tasks=_PANSHARPENING,
            factory="fusionbench_classical.pansharpening:Expansion",
            description="EXP: the MS upsampled to PAN size (the dataset's 23-tap `lms`), no PAN injection",
            citation="Vivone et al., A new benchmarking framework for pansharpening, IEEE GRSM 2021",
        ),
        ModelSpec(
            name="brovey",
            version="1",
            tasks=_PANSHARPENING,
            factory="fusionbench_classical.pansharpening:Brovey",
            description="Brovey transform: lms scaled by PAN / intensity, with PAN histogram-matched to the intensity",
            citation="Gillespie, Kahle, Walker, Remote Sens. Environ. 1987",
        ),
    ]

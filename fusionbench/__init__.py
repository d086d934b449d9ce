"""fusionbench: a plugin-registry benchmark for diffusion-based image fusion.

The public API is deliberately small: the hook marker, the spec dataclasses a plugin returns,
the runtime data types, and the task table. Everything else is internal and may change.
"""

from __future__ import annotations

from .hookspecs import hookimpl
from .protocols import FusionBatch, FusionItem, ModelContext
from .specs import (
    ComponentChoice,
    DataCard,
    DatasetSpec,
    ExecutorSpec,
    MetricSpec,
    ModelSpec,
    ParamSpec,
    ReportedResult,
    Requirements,
    SamplerSpec,
    SuiteEntry,
    SuiteSpec,
    WeightsRef,
)
from .tasks import TASKS, get_task

__version__ = "0.1.0"

__all__ = [
    "ComponentChoice",
    "DataCard",
    "DatasetSpec",
    "ExecutorSpec",
    "FusionBatch",
    "FusionItem",
    "MetricSpec",
    "ModelContext",
    "ModelSpec",
    "ParamSpec",
    "ReportedResult",
    "Requirements",
    "SamplerSpec",
    "SuiteEntry",
    "SuiteSpec",
    "TASKS",
    "WeightsRef",
    "__version__",
    "get_task",
    "hookimpl",
]

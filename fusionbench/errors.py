"""Exceptions with messages a user can act on. Every message names the thing at fault."""

from __future__ import annotations


class FusionbenchError(Exception):
    """Base class: the CLI prints these without a traceback."""


class PluginError(FusionbenchError):
    """A plugin failed to load, raised in a hook, or returned something invalid."""


class UnknownComponentError(FusionbenchError, KeyError):
    """A name that no installed plugin registers (the message suggests close matches)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ComponentConflictError(PluginError):
    """Two plugins register the same name for the same kind."""


class DatasetUnavailable(FusionbenchError):
    """A dataset's files are absent; the message says where it looked and how to get them."""


class DataFormatError(FusionbenchError, ValueError):
    """A data file is corrupt or has the wrong layout (the message names file and problem)."""


class MetricInputError(FusionbenchError, ValueError):
    """A metric got inputs it cannot score: NaN/inf, mismatched shapes, wrong bands, empty images."""


class InvalidModelOutput(FusionbenchError, ValueError):
    """A model returned an output of the wrong shape, dtype, or with non-finite values."""


class OptionError(FusionbenchError):
    """A command-line option value that cannot mean anything (``--workers -1``, ``--seeds 1,,2``)."""


class InvalidMetricOutput(FusionbenchError, ValueError):
    """A metric returned something other than one finite-or-not number per image."""


class PlanError(FusionbenchError):
    """A suite cannot be expanded into runs (unknown suite, bad selection)."""


class ResultsError(FusionbenchError):
    """Results could not be written or read (read-only directory, full disk, corrupt file)."""

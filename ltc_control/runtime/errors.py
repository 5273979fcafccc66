"""Typed errors of the liquid-network runtime.

Every error derives from the project-wide `LtcControlError` and from `ValueError`, so callers can
catch "anything ltc_control rejected" or simply "a bad value" without knowing this module.
"""

from ltc_control.errors import LtcControlError


class LiquidRuntimeError(LtcControlError, ValueError):
    """Base class of every error the runtime raises on purpose."""


class RuntimeInputError(LiquidRuntimeError):
    """A step/sequence input is unusable: wrong shape, NaN/Inf, or a non-positive elapsed time."""


class WiringError(LiquidRuntimeError):
    """A wiring's parameters or adjacency matrices are inconsistent."""


class ModelFileError(LiquidRuntimeError):
    """A model file is missing, unreadable, truncated, or its arrays disagree with its metadata."""


class ModelFileVersionError(ModelFileError):
    """A model file declares a format version this runtime does not understand."""


class ConversionError(LiquidRuntimeError):
    """An ncps module or state dict cannot be converted faithfully."""


class ParameterError(LiquidRuntimeError):
    """A cell's parameter arrays are missing or have shapes its configuration does not allow."""

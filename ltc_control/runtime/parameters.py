"""Checked access to a cell's named parameter arrays (names follow ncps' state_dict)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ltc_control.runtime.errors import ParameterError


def require(
    params: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """`params[name]` as a finite array of `shape` in `dtype`, or a ParameterError saying why."""
    if name not in params:
        raise ParameterError(f"parameter {name!r} is missing")
    value = np.asarray(params[name])
    if value.shape != shape:
        raise ParameterError(f"parameter {name!r} has shape {value.shape}, expected {shape}")
    if not np.isfinite(value).all():
        raise ParameterError(f"parameter {name!r} contains NaN or Inf")
    return value.astype(dtype, copy=True)


def strip_prefix(params: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The entries whose names start with `prefix`, with the prefix removed."""
    return {name[len(prefix) :]: v for name, v in params.items() if name.startswith(prefix)}

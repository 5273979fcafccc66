"""Checked access to a cell's named parameter arrays (names follow ncps' state_dict), and what
every cell and wiring hands out the same way: its arrays (`params`) and the settings it was
built with (`config`, a wiring's `params`), as a model file stores them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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


def settings(owner: object, attributes: Mapping[str, str]) -> dict[str, Any]:
    """`{key: owner.<attribute>}` for each key -> attribute pair: the settings `owner` was built
    with, under the names its constructor (and the model file) uses."""
    return {key: getattr(owner, attribute) for key, attribute in attributes.items()}


class Cell:
    """What the cells share: the checked arrays they were built from (`_raw`, handed out as
    copies) and their settings (`CONFIG`: config key -> attribute)."""

    CONFIG: ClassVar[Mapping[str, str]] = {}
    _raw: dict[str, np.ndarray]

    def params(self) -> dict[str, np.ndarray]:
        """Raw parameters as ncps stores them (before any constraint, mask or fusing)."""
        return {name: value.copy() for name, value in self._raw.items()}

    def config(self) -> dict[str, Any]:
        return settings(self, self.CONFIG)

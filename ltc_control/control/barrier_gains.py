"""BarrierNet gains from a policy's outputs: the one map from raw network outputs to class-K gains.

A BarrierNet model (training.barrier) outputs, beside its nominal command, one raw value per
class-K gain of the safety filter, named `cbf_gain/<group>.gain_<i>` (SafetyFilter.gain_names).
The gain is

    gain_k = GAIN_RANGE * configured_k * sigmoid(raw_k)

so a raw 0 gives the configured gain and every gain stays in (0, GAIN_RANGE * configured) (the
filter's default cap, safety config learned_gain_max_ratio, is the same 2). Training (torch) and
the policy node (numpy) both call `gains_from_raw`, passing their own sigmoid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ltc_control.runtime.activations import sigmoid as numpy_sigmoid
from ltc_control.runtime.signals import SignalError

GAIN_PREFIX = "cbf_gain"
GAIN_RANGE = 2.0


def gains_from_raw(raw, configured, sigmoid: Callable = numpy_sigmoid):
    """Class-K gains (1/s) from raw outputs: GAIN_RANGE * configured * sigmoid(raw); numpy
    arrays by default, torch tensors with sigmoid=torch.sigmoid."""
    return GAIN_RANGE * configured * sigmoid(raw)


class GainOutputs:
    """Which outputs of a model are raw gains, and their gains for one output vector."""

    def __init__(self, output_names: Sequence[str], configured: Mapping[str, float]) -> None:
        prefix = f"{GAIN_PREFIX}/"
        found = [
            (i, name.removeprefix(prefix))
            for i, name in enumerate(output_names)
            if name.startswith(prefix)
        ]
        self.names = tuple(name for _, name in found)
        unknown = sorted(set(self.names) - set(configured))
        if unknown:
            raise SignalError(
                f"model outputs gains {unknown} the safety config does not have "
                f"(it has {sorted(configured)})"
            )
        self._index = np.array([i for i, _ in found], dtype=int)
        self._configured = np.array([configured[name] for name in self.names], dtype=float)

    @staticmethod
    def present(output_names: Sequence[str]) -> bool:
        """True for a BarrierNet model (any output named cbf_gain/...)."""
        return any(name.startswith(f"{GAIN_PREFIX}/") for name in output_names)

    def __call__(self, outputs: np.ndarray) -> np.ndarray:
        """Gains (1/s, in `names` order) from one raw output vector of the model."""
        return gains_from_raw(np.asarray(outputs, dtype=float)[self._index], self._configured)


class GainsHold:
    """The filter side: the gains for the held nominal command, matched to it by stamp.

    A policy without gains never sends any: `for_step` returns None and the filter uses its
    configured gains as always. Once gains have arrived (a BarrierNet policy, until `start`),
    every cycle gets a vector: the gains stamped like the held nominal command, else the
    configured gains (counted in `stale`: missing, late or older gains are never reused for a
    newer command). Given explicitly, configured gains still pass the filter's gain_1 floor.
    Names are matched to the filter's `gain_names`; a name a message lacks is NaN (the filter
    replaces and counts it); a message whose names and gains differ in length is refused (the
    caller counts it).
    """

    def __init__(self, gain_names: Sequence[str], configured: np.ndarray) -> None:
        self.gain_names = tuple(gain_names)
        self._position = {name: i for i, name in enumerate(self.gain_names)}
        self.configured = np.array(configured, dtype=float)
        self.stale = 0
        self.start()

    def start(self) -> None:
        """A new activation: no gains, no nominal stamp, not in BarrierNet mode."""
        self.active = False
        self._gains: np.ndarray | None = None
        self._gains_stamp: float | None = None
        self._nominal_stamp: float | None = None

    def on_gains(self, stamp: float, names: Sequence[str], gains: Sequence[float]) -> bool:
        """Hold a gains message (False if its names and gains differ in length)."""
        if len(names) != len(gains):
            return False
        vector = np.full(len(self.gain_names), np.nan)
        for name, value in zip(names, gains, strict=True):
            if name in self._position:
                vector[self._position[name]] = value
        self._gains, self._gains_stamp, self.active = vector, stamp, True
        return True

    def on_nominal(self, stamp: float | None) -> None:
        """The stamp of the nominal command now held (None: unstamped, never matches)."""
        self._nominal_stamp = stamp

    def for_step(self) -> np.ndarray | None:
        """The gains for this cycle's command (see the class docstring)."""
        if not self.active:
            return None
        if self._gains_stamp is not None and self._gains_stamp == self._nominal_stamp:
            return self._gains
        self.stale += 1
        return self.configured

"""Running a single-sample solver over a batch with per-sample elapsed times.

The fused solvers work on one sample at a time in preallocated scratch vectors (batch 1 is the
control-loop case and has the fewest numpy calls); a batch is a loop over samples, each with its
own elapsed time, which is also what makes per-sample timespans exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SingleSampleSolver = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def per_sample(
    solve: SingleSampleSolver, inputs: np.ndarray, state: np.ndarray, elapsed: np.ndarray | float
) -> np.ndarray:
    """New states (batch, units) from inputs (batch, n), states (batch, units) and elapsed
    seconds, a scalar or (batch, 1)."""
    if np.ndim(elapsed) == 0:
        if len(inputs) == 1:
            return solve(inputs[0], state[0], float(elapsed))[None]
        times = [float(elapsed)] * len(inputs)
    else:
        times = [float(t) for t in np.reshape(elapsed, -1)]
    return np.stack([solve(x, h, t) for x, h, t in zip(inputs, state, times, strict=True)])

"""Shared builders for runtime tests: ncps reference modules and their batch-1 reference runs."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ncps_torch = pytest.importorskip("ncps.torch")
ncps_wirings = pytest.importorskip("ncps.wirings")

N_INPUTS = 5


def make_ncps_wiring(name: str):
    """Small instances of each ncps wiring kind (fresh object: ncps mutates it on build)."""
    return {
        "fully_connected": lambda: ncps_wirings.FullyConnected(7, 3),
        "ncp": lambda: ncps_wirings.NCP(5, 4, 3, 3, 2, 3, 2, seed=7),
        "auto_ncp": lambda: ncps_wirings.AutoNCP(14, 3, seed=3),
        "random": lambda: ncps_wirings.Random(9, 3, sparsity_level=0.5, random_seed=5),
    }[name]()


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """ncps allocates its zero initial state in torch's default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def make_ncps_module(kind: str, units, *, seed: int = 0, **kwargs):
    """An ncps LTC ('ltc') or CfC ('cfc') in float64 eval mode, with seeded random weights."""
    torch.manual_seed(seed)
    with default_dtype(torch.float64):
        cls = ncps_torch.LTC if kind == "ltc" else ncps_torch.CfC
        module = cls(N_INPUTS, units, batch_first=True, **kwargs).double().eval()
        with torch.no_grad():  # move LTC params off their init ranges so softplus/mapping matter
            for name, param in module.named_parameters():
                if name.endswith(("input_w", "input_b", "output_w", "output_b", "vleak")):
                    param.add_(0.3 * torch.randn_like(param))
    return module


def ncps_reference(
    module, xs: np.ndarray, dts: np.ndarray | None, dtype=torch.float64
) -> np.ndarray:
    """ncps outputs (batch, T, out), each sample run alone (batch 1): ncps 1.0.1 applies
    per-sample timespans wrongly when batch > 1, so batch-1 runs are the correct reference."""
    module = copy.deepcopy(module).to(dtype)
    outputs = []
    with default_dtype(dtype), torch.no_grad():
        for b in range(xs.shape[0]):
            x = torch.as_tensor(xs[b : b + 1], dtype=dtype)
            ts = None if dts is None else torch.as_tensor(dts[b : b + 1, :, None], dtype=dtype)
            y, _ = module(x, timespans=ts)
            outputs.append(y[0].numpy())
    return np.stack(outputs)


def runtime_outputs(policy, xs: np.ndarray, dts: np.ndarray | float) -> np.ndarray:
    """Our batched run over (batch, T, n) inputs and (batch, T) or scalar dts -> (batch, T, out)."""
    policy.reset(xs.shape[0])
    dts_t = dts if np.ndim(dts) == 0 else np.asarray(dts).T
    return policy.run_sequence(xs.transpose(1, 0, 2), dts_t).transpose(1, 0, 2)

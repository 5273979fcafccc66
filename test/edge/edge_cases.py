"""Policies for the edge tests: the shipped model files when they exist, generated ones otherwise
(the test id says which), and small NCP-wired ncps modules of every cell kind and mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltc_control.resources import model_path
from ltc_control.training.convert import from_ncps

SHIPPED = ("panda_cfc19", "double_pendulum_cfc19", "panda_ltc19", "double_pendulum_ltc19")
# (ncps class, mode) of every cell the exporter must handle
CELLS = {"ltc": ("ltc", None), "cfc": ("cfc", "default"), "cfc_pure": ("cfc", "pure")}
CELLS["cfc_no_gate"] = ("cfc", "no_gate")


def generated_policy(cell: str, path: Path, dtype: str = "float64", n_in: int = 7, seed: int = 0):
    """An ncps module with NCP wiring (inter/command/motor), random weights moved off their
    initial ranges so every parameter matters, converted to a runtime policy saved at `path`."""
    import torch
    from ncps.torch import LTC, CfC
    from ncps.wirings import NCP

    kind, mode = CELLS[cell]
    torch.manual_seed(seed)
    wiring = NCP(6, 5, 3, 3, 3, 4, 3, seed=seed + 1)
    if kind == "ltc":
        module = LTC(n_in, wiring, batch_first=True)
    else:
        module = CfC(n_in, wiring, batch_first=True, mode=mode)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith(("input_w", "input_b", "output_w", "output_b", "vleak")):
                param.add_(0.3 * torch.randn_like(param))
    rng = np.random.default_rng(seed)
    from ltc_control.runtime import Normalization

    normalization = Normalization(
        rng.normal(size=n_in), rng.uniform(0.5, 2.0, n_in), rng.normal(size=3), rng.uniform(1, 5, 3)
    )
    return from_ncps(
        module, normalization=normalization, model_id=f"generated-{cell}", dtype=dtype, path=path
    )


def shipped_cases() -> list:
    """One param per expected shipped model: the file if present, else a generated stand-in."""
    cases = []
    for name in SHIPPED:
        path = model_path(f"{name}.npz")
        if path.is_file():
            cases.append(pytest.param(path, id=f"shipped-{name}"))
        else:
            cell = "ltc" if "ltc" in name else "cfc"
            cases.append(pytest.param(cell, id=f"generated-{cell}-instead-of-absent-{name}"))
    return cases

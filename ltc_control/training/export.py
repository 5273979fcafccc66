"""Trained torch models -> numpy policies and model files (names, units, normalization inside).

CfC / LTC go through the runtime's `from_ncps` converter into the runtime model file; LSTM / MLP
into the baseline file of `training.baselines`. Either way the result steps with numpy only and
speaks the standard signal names (`position/<joint>`, ..., `effort_over_gravity/<joint>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.runtime import Normalization
from ltc_control.training.baselines import BaselinePolicy, save_baseline
from ltc_control.training.convert import from_ncps
from ltc_control.training.dataset import Normalizer
from ltc_control.training.models import LIQUID_KINDS, SequenceModel


def runtime_normalization(normalizer: Normalizer, n_out: int | None = None) -> Normalization:
    """The runtime's normalization; outputs beyond the normalizer's (BarrierNet gains) are
    passed through unchanged (mean 0, std 1)."""
    extra = 0 if n_out is None else n_out - len(normalizer.output_mean)
    return Normalization(
        input_mean=normalizer.input_mean,
        input_std=normalizer.input_std,
        output_mean=np.concatenate([normalizer.output_mean, np.zeros(extra)]),
        output_std=np.concatenate([normalizer.output_std, np.ones(extra)]),
    )


def to_policy(
    model: SequenceModel,
    normalizer: Normalizer,
    names: tuple[list[str], list[str], list[str], list[str]],
    model_id: str,
    description: str = "",
    path: str | Path | None = None,
) -> Any:
    """A numpy policy computing what `model` computes (written to `path` if given)."""
    input_names, input_units, output_names, output_units = names
    normalization = runtime_normalization(normalizer, len(output_names))
    if model.kind in LIQUID_KINDS:
        return from_ncps(
            model.module,
            input_names=input_names,
            output_names=output_names,
            input_units=input_units,
            output_units=output_units,
            normalization=normalization,
            model_id=model_id,
            description=description,
            path=path,
        )
    params = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in model.state_dict().items()}
    metadata = {
        "model_id": model_id,
        "description": description,
        "input_names": input_names,
        "input_units": input_units,
        "output_names": output_names,
        "output_units": output_units,
    }
    if path is not None:
        save_baseline(model.kind, params, normalization, metadata, path)
    return BaselinePolicy(model.kind, params, normalization, metadata)

"""Numpy forward passes of the LSTM and MLP baselines, and their model file.

The liquid policies (CfC, LTC) ship in the runtime's format (`ltc_control.runtime.model_file`).
The baselines exist to be compared against in the benchmark, so they get a small file of their
own: a `.npz` with `__metadata__` (UTF-8 JSON: format "ltc_control.baseline_policy", version 1,
kind "lstm"|"mlp", input/output names and units, model_id, hidden size / layer count),
`param/<name>` arrays (the torch state_dict of `training.models.LSTMModel` / `MLPModel`) and the
same `norm/*` arrays as the runtime format. `BaselinePolicy` has the runtime policy's single-sample
interface (input_names, output_names, reset(), step(x, dt) with x (n_in,)); dt is accepted and ignored: these are
discrete-time models, the reason they suffer when the sensor rate changes. numpy only.
`load_trained_policy(path)` opens either kind of file.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.runtime import LSTMRuntime, Normalization, load_policy
from ltc_control.runtime.errors import ModelFileError, RuntimeInputError
from ltc_control.runtime.model_file import read_archive

FORMAT_NAME = "ltc_control.baseline_policy"
FORMAT_VERSION = 1
_NORM_FIELDS = ("input_mean", "input_std", "output_mean", "output_std")


class BaselinePolicy:
    """LSTM (ncps LSTMCell + linear readout) or tanh MLP, with normalization and state."""

    def __init__(
        self,
        kind: str,
        params: dict[str, np.ndarray],
        normalization: Normalization,
        metadata: dict[str, Any],
    ) -> None:
        if kind not in ("lstm", "mlp"):
            raise ModelFileError(f"unknown baseline kind {kind!r}")
        self.kind = kind
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        self.normalization = normalization
        self.metadata = dict(metadata)
        self.input_names = list(metadata["input_names"])
        self.output_names = list(metadata["output_names"])
        self.input_units = list(metadata["input_units"])
        self.output_units = list(metadata["output_units"])
        self.model_id = str(metadata.get("model_id", "unnamed"))
        self.description = str(metadata.get("description", ""))  # records the config (provenance)
        if kind == "lstm":
            weight = self.params["cell.input_map.weight"]
            hidden = weight.shape[0] // 4
            cell_params = {
                k[len("cell.") :]: v for k, v in self.params.items() if k.startswith("cell.")
            }
            self._lstm = LSTMRuntime(weight.shape[1], hidden, cell_params, np.float64)
            self._hidden = hidden
        self.reset()

    def reset(self) -> None:
        if self.kind == "lstm":
            self._h = np.zeros(self._hidden)
            self._c = np.zeros(self._hidden)

    def step(self, x: Any, dt: Any = None) -> np.ndarray:
        """Raw inputs (n_in,) -> raw outputs (n_out,); dt is ignored (discrete time)."""
        inputs = np.asarray(x, dtype=np.float64)
        if inputs.shape != (len(self.input_names),) or not np.all(np.isfinite(inputs)):
            raise RuntimeInputError(
                f"inputs must be {len(self.input_names)} finite numbers "
                f"[{', '.join(self.input_names)}], got shape {inputs.shape}"
            )
        norm = self.normalization
        z = (inputs - norm.input_mean) / norm.input_std
        if self.kind == "lstm":
            self._h, self._c = self._lstm.step(z, self._h, self._c)
            y = self.params["readout.weight"] @ self._h + self.params["readout.bias"]
        else:
            y = self._mlp(z)
        return y * norm.output_std + norm.output_mean

    def _mlp(self, z: np.ndarray) -> np.ndarray:
        layers = sorted({int(k.split(".")[1]) for k in self.params if k.startswith("net.")})
        for i, index in enumerate(layers):
            z = self.params[f"net.{index}.weight"] @ z + self.params[f"net.{index}.bias"]
            if i < len(layers) - 1:
                z = np.tanh(z)
        return z


def save_baseline(
    kind: str,
    params: dict[str, np.ndarray],
    normalization: Normalization,
    metadata: dict[str, Any],
    path: str | Path,
) -> Path:
    """Write a baseline model file (see the module docstring); returns the path."""
    path = Path(path)
    arrays = {f"param/{k}": np.asarray(v) for k, v in params.items()}
    arrays |= {f"norm/{k}": np.asarray(getattr(normalization, k)) for k in _NORM_FIELDS}
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": kind} | metadata
    encoded = np.frombuffer(json.dumps(header, indent=1).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, __metadata__=encoded, **arrays)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)
    return path


def load_trained_policy(path: str | Path) -> Any:
    """A runtime LiquidPolicy or a BaselinePolicy, by the file's format (ModelFileError if
    neither)."""
    path = Path(path)
    header, arrays = read_archive(path)
    if header.get("format") != FORMAT_NAME:
        return load_policy(path)
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: baseline format_version {header.get('format_version')!r}")
    params = {k[len("param/") :]: v for k, v in arrays.items() if k.startswith("param/")}
    try:
        normalization = Normalization(**{k: arrays[f"norm/{k}"] for k in _NORM_FIELDS})
        return BaselinePolicy(header["kind"], params, normalization, header)
    except KeyError as exc:
        raise ModelFileError(f"{path}: baseline model file lacks {exc}") from exc

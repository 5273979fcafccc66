"""The liquid-policy model file: one `.npz` the nodes load, readable with numpy alone.

Format (version 1). A numpy `.npz` archive (no pickled objects) holding:

    __metadata__            uint8 array: UTF-8 JSON object, see below
    param/<name>            network parameters, float32 or float64, names and shapes exactly as
                            in the ncps module's state_dict (e.g. param/rnn_cell.w (units, units),
                            param/rnn_cell.layer_0.ff1.weight (layer units, fan_in),
                            param/lstm.input_map.weight (4 units, n_in)); CfC backbone Linear
                            layers renumbered 0..L-1; sparsity masks are NOT stored (the wiring's
                            adjacency in the metadata defines them)
    norm/input_mean         (n_in,)  raw input units; model input z = (x - mean) / std
    norm/input_std          (n_in,)  > 0
    norm/output_mean        (n_out,) raw output units; raw y = y_model * std + mean
    norm/output_std         (n_out,) > 0

Metadata JSON:

    format          "ltc_control.liquid_policy"
    format_version  1
    model_id        str, identifies the trained model (e.g. a run name or hash)
    description     str, free text
    dtype           "float32" | "float64", the precision the forward pass runs in
    network         network config (`ltc_control.runtime.network`): kind "ltc"|"cfc", input_size,
                    wiring (kind, constructor params, input_dim, adjacency and sensory_adjacency
                    with polarity +1/-1/0) or null, units, mixed_memory, proj_size, cell options
                    (LTC: ode_unfolds, epsilon, input/output_mapping, implicit_param_constraints;
                    CfC: mode[, activation, backbone_units, backbone_layers])
    input_names     [n_in] str,  input_units  [n_in] str (e.g. "rad", "rad/s", "m")
    output_names    [n_out] str, output_units [n_out] str (e.g. "N*m")
    arrays          {array name: shape}, a manifest checked against the archive on load

Elapsed time (`dt` of `LiquidPolicy.step`) is in seconds, the unit the model was trained with.
Anything wrong (missing/truncated/corrupt file, unknown version, arrays disagreeing with the
metadata) raises `ModelFileError` (`ModelFileVersionError` for the version) naming the problem.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.runtime.errors import LiquidRuntimeError, ModelFileError, ModelFileVersionError
from ltc_control.runtime.network import build_network
from ltc_control.runtime.parameters import strip_prefix
from ltc_control.runtime.policy import LiquidPolicy, Normalization

FORMAT_NAME = "ltc_control.liquid_policy"
FORMAT_VERSION = 1
_METADATA_KEY = "__metadata__"
_NORM_FIELDS = ("input_mean", "input_std", "output_mean", "output_std")


def save_policy(policy: LiquidPolicy, path: str | Path) -> Path:
    """Write `policy` (network, names, units, normalization; not its state) to `path`."""
    path = Path(path)
    arrays = {f"param/{k}": v for k, v in policy.network.params().items()}
    arrays |= {f"norm/{k}": getattr(policy.normalization, k) for k in _NORM_FIELDS}
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_id": policy.model_id,
        "description": policy.description,
        "dtype": policy.dtype.name,
        "network": policy.network.config(),
        "input_names": policy.input_names,
        "input_units": policy.input_units,
        "output_names": policy.output_names,
        "output_units": policy.output_units,
        "arrays": {name: list(value.shape) for name, value in arrays.items()},
    }
    encoded = np.frombuffer(json.dumps(metadata, indent=1).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **{_METADATA_KEY: encoded}, **arrays)
    # Write then rename, so a reader never sees a half-written model file.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)
    return path


def load_policy(path: str | Path) -> LiquidPolicy:
    """Read a model file written by `save_policy`; the policy starts with a zero state."""
    path = Path(path)
    metadata, arrays = read_archive(path)
    _check_header(path, metadata)
    _check_manifest(path, metadata, arrays)
    try:
        dtype = np.dtype(metadata["dtype"])
        params = strip_prefix(arrays, "param/")
        network = build_network(metadata["network"], params, dtype)
        return LiquidPolicy(
            network,
            input_names=metadata["input_names"],
            output_names=metadata["output_names"],
            input_units=metadata["input_units"],
            output_units=metadata["output_units"],
            normalization=Normalization(**{k: arrays[f"norm/{k}"] for k in _NORM_FIELDS}),
            model_id=metadata["model_id"],
            description=metadata.get("description", ""),
        )
    except (LiquidRuntimeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"model file {path} is inconsistent: {exc}") from exc


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the .npz archive at `path`, never unpickling anything; ModelFileError
    saying what the file is instead (missing, not an .npz archive, pickled entries, damaged)."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as file:
            head = file.read(64)
        if head.startswith(b"PK\x03\x04"):  # a zip's first entry, but no zip directory
            raise ModelFileError(
                f"model file {path} is not a readable .npz archive: truncated or damaged "
                "(it has no zip directory)"
            )
        raise ModelFileError(
            f"{path} is not a model file: model files are .npz (zip) archives, this is "
            f"{_what_it_is(head)}"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as exc:
        if "pickle" not in str(exc):
            raise ModelFileError(
                f"model file {path} is not a readable .npz archive: {exc}"
            ) from exc
        raise ModelFileError(
            f"model file {path} is not a readable .npz archive: an entry holds pickled Python "
            "objects, which a model file never does (not loaded: unpickling runs code)"
        ) from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"model file {path} is not a readable .npz archive: {exc}") from exc


def _what_it_is(head: bytes) -> str:
    if not head:
        return "an empty file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of another kind"
    first_line = text.splitlines()[0][:40] if text.strip() else ""
    return f"a text file (starting {first_line!r})"


def read_archive(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(metadata, arrays) of any ltc_control model file (the runtime's or a baseline's format),
    or a ModelFileError saying what is wrong with the file."""
    path = Path(path)
    arrays = _read_npz(path)
    if _METADATA_KEY not in arrays:
        raise ModelFileError(f"model file {path} has no {_METADATA_KEY} entry")
    try:
        metadata = json.loads(arrays.pop(_METADATA_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"model file {path} has corrupt metadata: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ModelFileError(f"model file {path}: metadata is not a JSON object")
    return metadata, arrays


def _check_header(path: Path, metadata: dict[str, Any]) -> None:
    if metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"model file {path} has format {metadata.get('format')!r}, expected {FORMAT_NAME!r}"
        )
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileVersionError(
            f"model file {path} has format_version {version!r}; this runtime reads "
            f"version {FORMAT_VERSION} only"
        )


def _check_manifest(path: Path, metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    manifest = metadata.get("arrays")
    if not isinstance(manifest, dict):
        raise ModelFileError(f"model file {path} has no array manifest")
    missing = sorted(set(manifest) - set(arrays))
    extra = sorted(set(arrays) - set(manifest))
    if missing or extra:
        raise ModelFileError(f"model file {path}: arrays missing {missing}, unexpected {extra}")
    for name, shape in manifest.items():
        if list(arrays[name].shape) != list(shape):
            raise ModelFileError(
                f"model file {path}: array {name} has shape {list(arrays[name].shape)}, "
                f"metadata says {shape}"
            )

"""Model file: exact round trip, and a typed, helpful error for every kind of bad file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from ncps_reference import make_ncps_module, make_ncps_wiring

from ltc_control.runtime import (
    FORMAT_VERSION,
    ModelFileError,
    ModelFileVersionError,
    Normalization,
    load_policy,
    save_policy,
)
from ltc_control.training.convert import from_ncps


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, object]:
    module = make_ncps_module("cfc", make_ncps_wiring("ncp"), mixed_memory=True, mode="no_gate")
    policy = from_ncps(
        module,
        input_names=["a", "b", "c", "d", "e"],
        output_names=["u", "v", "w"],
        input_units=["rad"] * 5,
        output_units=["N*m"] * 3,
        normalization=Normalization(np.arange(5.0), np.full(5, 2.0), np.ones(3), np.full(3, 3.0)),
        model_id="round-trip",
        description="unit test model",
    )
    path = tmp_path_factory.mktemp("model") / "policy.npz"
    save_policy(policy, path)
    return path, policy


def _rewrite(source: Path, target: Path, edit) -> Path:
    """Copy an archive, letting `edit(arrays, metadata)` change it on the way."""
    with np.load(source) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(arrays.pop("__metadata__").tobytes())
    edit(arrays, metadata)
    encoded = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    np.savez(target, __metadata__=encoded, **arrays)
    return target


def test_round_trip_reproduces_outputs_and_everything_inspectable(saved):
    path, original = saved
    loaded = load_policy(path)
    for attribute in (
        "input_names",
        "output_names",
        "input_units",
        "output_units",
        "model_id",
        "description",
        "neuron_names",
        "neuron_groups",
        "kind",
        "dtype",
    ):
        assert getattr(loaded, attribute) == getattr(original, attribute), attribute
    assert loaded.wiring == original.wiring
    rng = np.random.default_rng(0)
    xs, dts = rng.normal(size=(50, 5)), rng.uniform(0.01, 0.2, size=50)
    original.reset()
    np.testing.assert_array_equal(loaded.run_sequence(xs, dts), original.run_sequence(xs, dts))


def test_file_is_a_plain_npz_with_json_metadata(saved):
    path, _ = saved
    with np.load(path, allow_pickle=False) as archive:
        metadata = json.loads(archive["__metadata__"].tobytes())
        assert metadata["format_version"] == FORMAT_VERSION
        assert metadata["network"]["kind"] == "cfc"
        assert metadata["network"]["wiring"]["kind"] == "ncp"
        assert archive["norm/input_std"].tolist() == [2.0] * 5
        assert "param/rnn_cell.layer_0.ff1.weight" in archive.files
        assert not any("sparsity_mask" in name for name in archive.files)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_policy(tmp_path / "nope.npz")


def test_truncated_file(saved, tmp_path):
    path, _ = saved
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=r"not a readable \.npz archive"):
        load_policy(truncated)


def test_corrupt_bytes(saved, tmp_path):
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[200:400] = bytes(200)  # zero a stretch inside the first member's data: CRC mismatch
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"not a readable|corrupt metadata"):
        load_policy(corrupt)


def test_not_an_archive(tmp_path):
    bogus = tmp_path / "text.npz"
    bogus.write_text("hello")
    # Never numpy's "load it unsafely using allow_pickle" for a file that is no archive at all.
    with pytest.raises(ModelFileError, match=r"is not a model file: .* a text file") as error:
        load_policy(bogus)
    assert "pickle" not in str(error.value)


def test_archive_without_metadata(tmp_path):
    bare = tmp_path / "bare.npz"
    np.savez(bare, x=np.ones(3))
    with pytest.raises(ModelFileError, match="no __metadata__ entry"):
        load_policy(bare)


def test_metadata_not_json(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, __metadata__=np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(ModelFileError, match="corrupt metadata"):
        load_policy(bad)


def test_unknown_format_version(saved, tmp_path):
    path, _ = saved
    future = _rewrite(path, tmp_path / "v99.npz", lambda a, m: m.update(format_version=99))
    with pytest.raises(
        ModelFileVersionError, match="format_version 99; this runtime reads version 1"
    ):
        load_policy(future)


def test_wrong_format_name(saved, tmp_path):
    path, _ = saved
    other = _rewrite(path, tmp_path / "other.npz", lambda a, m: m.update(format="onnx"))
    with pytest.raises(ModelFileError, match="has format 'onnx'"):
        load_policy(other)


def test_array_shape_disagrees_with_manifest(saved, tmp_path):
    path, _ = saved

    def shrink(arrays, metadata):
        arrays["param/rnn_cell.layer_1.ff1.bias"] = np.zeros(1)

    with pytest.raises(
        ModelFileError, match=r"array param/rnn_cell.layer_1.ff1.bias has shape \[1\]"
    ):
        load_policy(_rewrite(path, tmp_path / "shape.npz", shrink))


def test_missing_array(saved, tmp_path):
    path, _ = saved
    dropped = _rewrite(path, tmp_path / "drop.npz", lambda a, m: a.pop("param/lstm.input_map.bias"))
    with pytest.raises(ModelFileError, match=r"arrays missing \['param/lstm.input_map.bias'\]"):
        load_policy(dropped)


def test_arrays_inconsistent_with_network_config(saved, tmp_path):
    """Manifest and archive agree, but the wiring in the metadata needs other shapes."""
    path, _ = saved

    def bigger_wiring(arrays, metadata):
        wiring = metadata["network"]["wiring"]
        wiring["params"]["inter_neurons"] += 1
        wiring["adjacency"] = np.zeros((13, 13), int).tolist()
        wiring["sensory_adjacency"] = np.zeros((5, 13), int).tolist()

    with pytest.raises(ModelFileError, match=r"inconsistent: .*shape"):
        load_policy(_rewrite(path, tmp_path / "wiring.npz", bigger_wiring))


def test_nan_parameter_is_rejected(saved, tmp_path):
    path, _ = saved

    def poison(arrays, metadata):
        arrays["param/rnn_cell.layer_0.ff2.bias"] = np.full_like(
            arrays["param/rnn_cell.layer_0.ff2.bias"], np.nan
        )

    with pytest.raises(ModelFileError, match=r"ff2.bias' contains NaN"):
        load_policy(_rewrite(path, tmp_path / "nan.npz", poison))


def test_pickled_objects_are_refused(tmp_path):
    pickled = tmp_path / "pickle.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(pickled, "w") as archive:
        archive.writestr("__metadata__.npy", buffer.getvalue())
    with pytest.raises(ModelFileError, match="not a readable"):
        load_policy(pickled)


def test_ltc_float32_round_trip(tmp_path):
    module = make_ncps_module("ltc", make_ncps_wiring("random"), implicit_param_constraints=False)
    policy = from_ncps(module, dtype="float32", path=tmp_path / "ltc.npz")
    loaded = load_policy(tmp_path / "ltc.npz")
    assert loaded.dtype == np.float32
    x = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(loaded.step(x, 0.02), policy.step(x, 0.02))

"""Model files say which config trained them; the shipped ones match the committed configs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ltc_control.resources import config_path, share_dir
from ltc_control.training.baselines import load_trained_policy
from ltc_control.training.config import fingerprint, load_train_config, provenance

MODELS = (share_dir() / "models").resolve()


def _shipped_models() -> list[tuple[str, str]]:
    """(config file, model name) of every shipped model a committed training config writes."""
    configs = sorted(share_dir().glob("config/*/train*.yaml"))
    return [
        (str(path.relative_to(config_path())), spec.name)
        for path in configs
        for spec in load_train_config(path).models
        if Path(spec.output).resolve().parent == MODELS
    ]


def test_every_shipped_model_has_a_committed_config():
    written = {name for _, name in _shipped_models()}
    shipped = {path.stem for path in MODELS.glob("*.npz")}
    assert shipped == written, "models/ and the configs' package:// outputs differ"


@pytest.mark.parametrize(("config_file", "name"), _shipped_models())
def test_shipped_model_was_trained_by_the_committed_config(config_file, name):
    config = load_train_config(config_path(config_file))
    spec = config.select([name]).models[0]
    recorded = provenance(load_trained_policy(Path(spec.output)).description)
    assert recorded.get("config_sha256") == fingerprint(config, name), (
        f"models/{name}.npz was not trained by the committed config/{config_file}: "
        f"retrain it (ltc-control train --config config/{config_file} --model {name} --force) "
        "or restore the config"
    )
    assert recorded["code"] != "unknown"


def test_the_fingerprint_follows_what_trains_the_model_and_nothing_else():
    config = load_train_config(config_path("panda", "train.yaml"))
    name = "panda_cfc19"
    reference = fingerprint(config, name)
    assert fingerprint(dataclasses.replace(config, report_dir="elsewhere"), name) == reference
    moved = tuple(dataclasses.replace(m, output=f"/elsewhere/{m.name}.npz") for m in config.models)
    assert fingerprint(dataclasses.replace(config, models=moved), name) == reference
    others = tuple(m for m in config.models if m.name != name)
    assert (
        fingerprint(dataclasses.replace(config, models=others + config.select([name]).models), name)
        == reference
    )
    assert fingerprint(dataclasses.replace(config, seed=1), name) != reference
    epochs = dataclasses.replace(config.training, epochs=config.training.epochs + 1)
    assert fingerprint(dataclasses.replace(config, training=epochs), name) != reference
    assert provenance("cfc; config_sha256=ab12 code=0123abcd") == {
        "config_sha256": "ab12",
        "code": "0123abcd",
    }

"""Model files say which config trained them; the shipped ones match the committed configs."""

from __future__ import annotations

import dataclasses

import pytest

from ltc_control.resources import config_path, shipped_policy
from ltc_control.training.baselines import load_trained_policy
from ltc_control.training.config import fingerprint, load_train_config, provenance

# Models retrained since model files record their config (the others predate it: README).
RETRAINED = {("panda", "cfc19"): "panda/train.yaml"}


@pytest.mark.parametrize(("robot", "model"), sorted(RETRAINED))
def test_shipped_model_was_trained_by_the_committed_config(robot, model):
    config = load_train_config(config_path(RETRAINED[robot, model]))
    recorded = provenance(load_trained_policy(shipped_policy(robot, model)).description)
    assert recorded["config_sha256"] == fingerprint(config, f"{robot}_{model}"), (
        f"models/{robot}_{model}.npz was not trained by the committed config/{RETRAINED[robot, model]}: "
        "retrain it (ltc-control train --config ... --model ...) or restore the config"
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

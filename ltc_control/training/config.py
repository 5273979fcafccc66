"""Training configuration: one YAML file per robot (config/<robot>/train.yaml), validated up front.

Every key has a default here; a file lists what it changes. Any error (unknown key, wrong type,
value out of range, missing bag file) is a `TrainingConfigError` naming the dotted key, raised by
`load_train_config` before any data is collected or any training starts.

Paths (report_dir, data.rosbags, models[].output) mean what the file says: relative paths resolve
against the config file's folder, `package://ltc_control/models/x.npz` names the installed
package's file explicitly (the shipped configs write their models that way); without a
report_dir the reports go to runs/train in the working directory. A relative path that lands in
the package's config/, launch/ or models/ is refused (write package://... to mean it), and
`check_outputs` refuses to overwrite a shipped model unless forced. Loaded configs hold absolute
paths.

Units: s, Hz, rad, rad/s, fractions in [0, 1).

    robot: panda                         # config/<robot>/robot.yaml
    seed: 0                              # seeds data, initialization, batching, DAgger
    report_dir: reports                  # JSON reports and PNG loss curves (default: ./runs/train)
    data:
      validation_fraction: 0.1           # of the episodes, held out for the validation loss
      simulated:                         # expert rollouts with domain randomization
        episodes: 96
        duration_s: 8.0
        rate_hz: 100.0                   # nominal sensor rate
        rate_spread: 0.1                 # per-episode rate uniform in rate*(1 +- spread)
        jitter: 0.2                      # per-sample interval scaled by (1 + jitter*u), u in [-1, 1]
        q_noise_std: 0.0005              # rad
        v_noise_std: 0.005               # rad/s
        mass_spread: 0.1
        initial_offset: 0.3              # rad around home
        initial_speed: 0.1               # rad/s
        moving_fraction: 0.3
        unreachable_fraction: 0.2
      rosbags: [recordings/run1]         # rosbag2 directories (ltc_control.data), optional
      curation: {}                       # options of ltc_control.data's curation
      senses: []                         # model inputs from the robot model, after q, v, target:
                                         # ee_position, ee_error, ee_velocity (runtime.signals)
      action: effort_over_gravity        # or ee_acceleration: x, y, z (m/s²) through the
                                         # expert's law (labels: the expert's task acceleration)
    training:                            # shared by every model below unless overridden
      epochs: 60
      batch_size: 16
      window_s: 1.0                      # truncated-BPTT window
      learning_rate: 0.01
      min_learning_rate: 0.0005          # cosine decay to this
      grad_clip: 1.0
      threads: 2
      time_budget_s: 840                 # stop early (and say so in the report) after this
    dagger:
      rounds: 2                          # learner rollouts labelled by the expert, 0 = pure BC
      episodes: 16                       # per round
      epochs: 15                         # training epochs after each round
      beta: 0.5                          # round r executes beta^r expert + (1 - beta^r) learner
    models:                              # one entry per policy to train
      - name: panda_cfc19
        kind: cfc                        # cfc | ltc | lstm | mlp
        units: 19                        # neurons (cfc/ltc: wiring units; lstm: hidden size)
        wiring: ncp                      # cfc/ltc: ncp (AutoNCP layers) | full (cfc: all-to-all)
        output: package://ltc_control/models/panda_cfc19.npz   # or my_models/cfc19.npz
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltc_control.config_files import FieldReader, read_mapping
from ltc_control.errors import ConfigError
from ltc_control.resources import PACKAGE_URI, in_package_data, is_shipped_model, resolve_path
from ltc_control.runtime.signals import EE_ACCELERATION, EFFORT_OVER_GRAVITY, MODEL_SENSES
from ltc_control.training.errors import TrainingConfigError

LIQUID_KINDS = ("cfc", "ltc")
# ncp: AutoNCP's layers (sensory -> inter -> command -> motor neurons); full: one layer of
# all-to-all neurons, `motor_neurons` of them read out. With 19 neurons and 7 motor neurons
# AutoNCP has 8 inter and 4 command neurons, so everything a 7-joint arm's torque depends on
# passes through 4 neurons (a rank-4 map from 7 joint velocities to 7 damping torques).
WIRINGS = ("ncp", "full")
MODEL_KINDS = (*LIQUID_KINDS, "lstm", "mlp")
DEFAULT_REPORT_DIR = "runs/train"  # in the working directory, when the config names none
_FIELDS = FieldReader("training config", TrainingConfigError)
_check = _FIELDS.check


@dataclass(frozen=True)
class SimulatedData:
    episodes: int = 96
    duration_s: float = 8.0
    rate_hz: float = 100.0
    rate_spread: float = 0.1
    jitter: float = 0.2
    q_noise_std: float = 0.0005
    v_noise_std: float = 0.005
    mass_spread: float = 0.1
    initial_offset: float = 0.3
    initial_speed: float = 0.1
    moving_fraction: float = 0.3
    unreachable_fraction: float = 0.2

    def validate(self, key: str) -> None:
        _check(self.episodes >= 0, f"{key}.episodes", "must be >= 0")
        _check(self.duration_s > 0.0, f"{key}.duration_s", "must be > 0 s")
        _check(self.rate_hz > 0.0, f"{key}.rate_hz", "must be > 0 Hz")
        for name in ("rate_spread", "jitter", "mass_spread"):
            _check(0.0 <= getattr(self, name) < 1.0, f"{key}.{name}", "must be in [0, 1)")
        for name in ("moving_fraction", "unreachable_fraction"):
            _check(0.0 <= getattr(self, name) <= 1.0, f"{key}.{name}", "must be in [0, 1]")
        for name in ("q_noise_std", "v_noise_std", "initial_offset", "initial_speed"):
            _check(getattr(self, name) >= 0.0, f"{key}.{name}", "must be >= 0")


@dataclass(frozen=True)
class DataConfig:
    validation_fraction: float = 0.1
    simulated: SimulatedData = field(default_factory=SimulatedData)
    rosbags: tuple[str, ...] = field(default_factory=tuple)  # absolute once loaded
    curation: dict[str, Any] = field(default_factory=dict)
    senses: tuple[str, ...] = field(default_factory=tuple)  # runtime.signals.MODEL_SENSES, x|y|z
    action: str = EFFORT_OVER_GRAVITY  # or EE_ACCELERATION

    def validate(self, key: str) -> None:
        _check(0.0 <= self.validation_fraction < 1.0, f"{key}.validation_fraction", "in [0, 1)")
        unknown = sorted(set(self.senses) - set(MODEL_SENSES))
        _check(not unknown, f"{key}.senses", f"has unknown {unknown}; known: {list(MODEL_SENSES)}")
        actions = (EFFORT_OVER_GRAVITY, EE_ACCELERATION)
        _check(self.action in actions, f"{key}.action", f"must be one of {list(actions)}")
        self.simulated.validate(f"{key}.simulated")
        _check(
            self.simulated.episodes > 0 or bool(self.rosbags),
            f"{key}.simulated.episodes",
            "is 0 and no data.rosbags are given: there is no training data",
        )
        for i, bag in enumerate(self.rosbags):
            _check(Path(bag).exists(), f"{key}.rosbags[{i}]", f"{bag} does not exist")


@dataclass(frozen=True)
class TrainingOptions:
    epochs: int = 60
    batch_size: int = 16
    window_s: float = 1.0
    learning_rate: float = 0.01
    min_learning_rate: float = 0.0005
    grad_clip: float = 1.0
    threads: int = 2
    time_budget_s: float = 840.0

    def validate(self, key: str) -> None:
        for name in ("epochs", "batch_size", "threads"):
            _check(getattr(self, name) >= 1, f"{key}.{name}", "must be >= 1")
        for name in ("window_s", "learning_rate", "grad_clip", "time_budget_s"):
            _check(getattr(self, name) > 0.0, f"{key}.{name}", "must be > 0")
        _check(
            0.0 < self.min_learning_rate <= self.learning_rate,
            f"{key}.min_learning_rate",
            "must be in (0, learning_rate]",
        )


@dataclass(frozen=True)
class DaggerOptions:
    rounds: int = 2
    episodes: int = 16
    epochs: int = 15
    # Round r executes beta**r * expert + (1 - beta**r) * learner (the learner still steps on
    # every sample): early learners would otherwise wander to states no expert label rescues.
    beta: float = 0.5

    def validate(self, key: str) -> None:
        _check(self.rounds >= 0, f"{key}.rounds", "must be >= 0")
        _check(0.0 <= self.beta < 1.0, f"{key}.beta", "must be in [0, 1)")
        for name in ("episodes", "epochs"):
            _check(getattr(self, name) >= 1, f"{key}.{name}", "must be >= 1")


@dataclass(frozen=True)
class ModelSpec:
    name: str = ""
    kind: str = "cfc"
    units: int = 19
    output: str = ""
    wiring: str = "ncp"  # cfc, ltc: one of WIRINGS
    sparsity: float = 0.5  # AutoNCP sparsity level (wiring ncp), in [0.1, 0.9]
    wiring_seed: int = 22222
    mixed_memory: bool = False
    ode_unfolds: int = 6  # ltc only
    hidden_layers: int = 2  # mlp only
    motor_neurons: int = 0  # cfc only: AutoNCP motor neurons, read out linearly; 0 = one per joint
    barriernet: bool = False  # cfc only: also output CBF gains, train through the safety QP layer
    training: dict[str, Any] = field(default_factory=dict)  # overrides of the shared options

    def validate(self, key: str, n_out: int) -> None:
        _check(bool(self.name), f"{key}.name", "is required")
        _check(self.kind in MODEL_KINDS, f"{key}.kind", f"must be one of {list(MODEL_KINDS)}")
        _check(bool(self.output), f"{key}.output", "is required (the model file to write)")
        _check(self.units >= 1, f"{key}.units", "must be >= 1")
        _check(self.wiring in WIRINGS, f"{key}.wiring", f"must be one of {list(WIRINGS)}")
        _check(0.1 <= self.sparsity <= 0.9, f"{key}.sparsity", "must be in [0.1, 0.9]")
        _check(self.ode_unfolds >= 1, f"{key}.ode_unfolds", "must be >= 1")
        _check(self.hidden_layers >= 1, f"{key}.hidden_layers", "must be >= 1")
        _check(
            self.motor_neurons == 0 or (self.kind == "cfc" and self.motor_neurons >= 1),
            f"{key}.motor_neurons",
            "must be 0 (one per joint) or, for kind cfc, >= 1",
        )
        motors = self.motor_neurons or n_out
        if self.kind in ("cfc", "ltc") and self.wiring == "ncp":
            _check(
                self.units > motors + 2,
                f"{key}.units",
                f"must exceed {motors + 2} for AutoNCP with {motors} motor neurons",
            )
        _check(
            self.wiring == "ncp" or (self.kind == "cfc" and not self.motor_neurons),
            f"{key}.wiring",
            "full needs kind cfc and motor_neurons 0 (every neuron is read out)",
        )
        _check(
            not self.barriernet or self.kind == "cfc",
            f"{key}.barriernet",
            "needs kind cfc (its linear readout gives the extra gain outputs)",
        )

    def model_options(self, n_out: int) -> dict[str, Any]:
        """Constructor options of `models.build_model` for this spec."""
        if self.kind in ("cfc", "ltc"):
            options = {"units": self.units, "wiring": self.wiring, "sparsity": self.sparsity}
            options |= {"wiring_seed": self.wiring_seed, "mixed_memory": self.mixed_memory}
            if self.motor_neurons:
                options |= {"motor_neurons": self.motor_neurons, "proj_size": n_out}
            return options | ({"ode_unfolds": self.ode_unfolds} if self.kind == "ltc" else {})
        if self.kind == "lstm":
            return {"units": self.units}
        return {"hidden": self.units, "layers": self.hidden_layers}


@dataclass(frozen=True)
class TrainConfig:
    robot: str = ""
    seed: int = 0
    report_dir: str = DEFAULT_REPORT_DIR
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingOptions = field(default_factory=TrainingOptions)
    dagger: DaggerOptions = field(default_factory=DaggerOptions)
    models: tuple[ModelSpec, ...] = field(default_factory=tuple)

    def validate(self) -> None:
        from ltc_control.robots import available_robots, load_robot_description

        _check(self.robot in available_robots(), "robot", f"must be one of {available_robots()}")
        dof = load_robot_description(self.robot).dof
        outputs = 3 if self.data.action == EE_ACCELERATION else dof  # x, y, z or one per joint
        self.data.validate("data")
        self.training.validate("training")
        self.dagger.validate("dagger")
        _check(bool(self.models), "models", "must list at least one model to train")
        names = [m.name for m in self.models]
        _check(len(set(names)) == len(names), "models", f"names must be unique, got {names}")
        for i, spec in enumerate(self.models):
            spec.validate(f"models[{i}]", outputs)
            self.options_for(spec).validate(f"models[{i}].training")

    def options_for(self, spec: ModelSpec) -> TrainingOptions:
        """The shared training options with the model's overrides applied."""
        return _build(
            TrainingOptions,
            {**dataclasses.asdict(self.training), **spec.training},
            f"models[{spec.name}].training",
        )

    def check_outputs(self, force: bool = False) -> None:
        """Refuse to overwrite a model the package ships, unless `force` (`train --force`)."""
        for i, spec in enumerate(self.models):
            _check(
                force or not is_shipped_model(Path(spec.output)),
                f"models[{i}].output",
                f"{spec.output} is a model the package ships: pass --force to overwrite it, "
                "or write to a path of yours",
            )

    def select(self, names: list[str]) -> TrainConfig:
        """A copy that trains only the named models (TrainingConfigError for unknown names)."""
        known = [m.name for m in self.models]
        unknown = [n for n in names if n not in known]
        _check(not unknown, "models", f"has no model named {unknown}; known: {known}")
        return dataclasses.replace(self, models=tuple(m for m in self.models if m.name in names))


def fingerprint(config: TrainConfig, name: str) -> str:
    """sha256 of what trains model `name`: the config with only that model. Where files go
    (report_dir, the model's output) is left out and rosbags count by folder name, so one config
    hashes the same in any checkout or install. Model files record it (`provenance`)."""
    selected = dataclasses.asdict(config.select([name]))
    selected.pop("report_dir")
    for model in selected["models"]:
        model.pop("output")
    selected["data"]["rosbags"] = [Path(bag).name for bag in selected["data"]["rosbags"]]
    canonical = json.dumps(selected, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def provenance(description: str) -> dict[str, str]:
    """The `config_sha256` and `code` a model file's description records (empty if none)."""
    return dict(re.findall(r"\b(config_sha256|code)=(\S+)", description))


def train_config_from_dict(data: Any, base_dir: Path | None = None) -> TrainConfig:
    """Build and validate a TrainConfig from a plain mapping (e.g. parsed YAML).

    Relative paths resolve against `base_dir` (the config file's folder; default: the working
    directory), except the default report_dir, which is always in the working directory.
    """
    if not isinstance(data, dict):
        raise TrainingConfigError(f"training config must be a mapping, got {type(data).__name__}")
    data = _absolute_paths(data, Path.cwd() if base_dir is None else base_dir)
    data["data"] = _section(DataConfig, data.get("data", {}), "data")
    data["training"] = _build(TrainingOptions, data.get("training", {}), "training")
    data["dagger"] = _build(DaggerOptions, data.get("dagger", {}), "dagger")
    models = data.get("models", [])
    _check(isinstance(models, list), "models", "must be a list of model entries")
    data["models"] = tuple(_build(ModelSpec, m, f"models[{i}]") for i, m in enumerate(models))
    config = _build(TrainConfig, data, "")
    config.validate()
    return config


def load_train_config(path: str | Path) -> TrainConfig:
    """Load and validate a training config file; its relative paths resolve against its folder."""
    path = Path(path).expanduser().absolute()
    data = read_mapping(path, "training config", TrainingConfigError)
    try:
        return train_config_from_dict(data, base_dir=path.parent)
    except TrainingConfigError as exc:
        raise TrainingConfigError(f"{path}: {exc}") from exc


def _absolute_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """A copy of the mapping with every path absolute (see the module docstring)."""
    data = dict(data)
    data["report_dir"] = _writable(data, "report_dir", base, default=DEFAULT_REPORT_DIR)
    section = data.get("data", {})
    if isinstance(section, dict) and isinstance(section.get("rosbags"), list):
        bags = [_path(bag, base, f"data.rosbags[{i}]") for i, bag in enumerate(section["rosbags"])]
        data["data"] = section | {"rosbags": bags}
    models = data.get("models")
    if isinstance(models, list):
        data["models"] = [
            m | {"output": _writable(m, "output", base, key=f"models[{i}].output")}
            if isinstance(m, dict) and "output" in m
            else m
            for i, m in enumerate(models)
        ]
    return data


def _writable(
    entry: dict[str, Any], name: str, base: Path, key: str = "", default: str | None = None
) -> str:
    """An output path: written by the user (against `base`) or the default (working directory)."""
    key = key or name
    if name not in entry:
        return str(Path.cwd() / default) if default is not None else ""
    written = entry[name]
    path = _path(written, base, key)
    explicit = str(written).startswith(PACKAGE_URI)
    _check(
        explicit or not in_package_data(Path(path)),
        key,
        f"{written!r} resolves to {path}, inside the installed package: "
        f"write {PACKAGE_URI}... to mean it, or give a path of yours",
    )
    return str(path)


def _path(written: Any, base: Path, key: str) -> str:
    _check(isinstance(written, str) and bool(written), key, f"must be a path, got {written!r}")
    try:
        return str(resolve_path(written, base))
    except ConfigError as exc:
        raise TrainingConfigError(f"training config '{key}': {exc}") from exc


def _section(cls: type, data: Any, key: str) -> Any:
    _check(isinstance(data, dict), key, "must be a mapping")
    data = dict(data)
    data["simulated"] = _build(SimulatedData, data.get("simulated", {}), f"{key}.simulated")
    bags = data.get("rosbags", [])
    _check(isinstance(bags, list), f"{key}.rosbags", "must be a list of paths")
    data["rosbags"] = tuple(str(b) for b in bags)
    senses = data.get("senses", [])
    _check(isinstance(senses, list), f"{key}.senses", "must be a list of sense names")
    data["senses"] = tuple(str(s) for s in senses)
    _check(isinstance(data.get("curation", {}), dict), f"{key}.curation", "must be a mapping")
    return _build(cls, data, key)


def _build(cls: type, data: Any, key: str) -> Any:
    """cls(**data) with unknown keys and wrongly typed values reported by their dotted key."""
    return cls(**_FIELDS.values(cls, data, key))

"""Train policies from a TrainConfig: data, behaviour cloning with truncated BPTT, DAgger, export.

Promises:
- `prepare_data` collects the simulated expert rollouts (domain randomization: targets, initial
  states, masses, sensor noise, per-episode sensor rate and jitter) and reads the rosbag2
  recordings, curates them (ltc_control.data.curate) and splits episodes into train/validation;
  its report (counts, curation) goes into every model's JSON report.
- Training is seeded (torch, numpy, batching, DAgger episodes) and runs with
  `training.threads` torch threads: the same config on the same machine gives the same model,
  as long as no phase hits its share of `time_budget_s` (then the report says stopped_early).
  It trains in normalized space on consecutive windows of whole episodes (the hidden state is
  carried across windows, gradients are not), with the real elapsed times as timespans. DAgger
  rounds roll the current learner out in closed loop (numpy runtime, PolicyController), label
  every visited state with the expert and add those episodes to the training set.
- The model file is written with `export.to_policy`; the JSON report and a PNG of the loss curves
  go to `report_dir`. Training stops early at `time_budget_s` and the report says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import pickle
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ltc_control.data.trajectory import Trajectory
from ltc_control.evaluation.closed_loop import (
    Condition,
    EvaluationConfig,
    Evaluator,
    MixedController,
    observation_layout,
    summarize,
)
from ltc_control.resources import share_dir, source_dir
from ltc_control.robots import RobotDescription, load_robot_description
from ltc_control.robots.dynamics import PinocchioDynamics
from ltc_control.runtime.signals import EE_ACCELERATION
from ltc_control.sim.expert import OperationalSpaceExpert
from ltc_control.sim.rollouts import RolloutConfig, collect_rollouts
from ltc_control.training.config import ModelSpec, TrainConfig, TrainingOptions, fingerprint
from ltc_control.training.dataset import (
    Episode,
    EpisodeBatches,
    Normalizer,
    episode_from_trajectory,
    signal_names,
    stack,
)
from ltc_control.training.errors import TrainingDataError
from ltc_control.training.export import to_policy
from ltc_control.training.models import SequenceModel, build_model

Progress = Callable[..., Any]  # tqdm-like factory: progress(total=..., desc=...)
_LOG = logging.getLogger(__name__)


@dataclass
class DataBundle:
    train: list[Trajectory]
    validation: list[Trajectory]
    report: dict[str, Any]


@dataclass
class TrainResult:
    name: str
    model_path: Path
    report_path: Path
    plot_path: Path
    report: dict[str, Any] = field(default_factory=dict)


def quiet(iterable: Any = None, **_: Any) -> Any:
    """A no-op progress bar (the `progress` of a run that prints nothing)."""

    class _Bar:
        def update(self, *_: Any) -> None: ...
        def set_postfix(self, *_: Any, **__: Any) -> None: ...
        def close(self) -> None: ...

    return _Bar() if iterable is None else iterable


# The domain randomization (data.simulated) the expert rollouts and the DAgger episodes share;
# DAgger episodes start at the evaluation's default initial speed.
SHARED_RANDOMIZATION = (
    "q_noise_std",
    "v_noise_std",
    "mass_spread",
    "initial_offset",
    "moving_fraction",
    "unreachable_fraction",
)


def _randomization(simulated: Any) -> dict[str, float]:
    return {key: getattr(simulated, key) for key in SHARED_RANDOMIZATION}


def prepare_data(
    config: TrainConfig, robot: RobotDescription, progress: Progress = quiet
) -> DataBundle:
    """Simulated rollouts + rosbag recordings, curated, split by episode (see module doc)."""
    start = time.perf_counter()
    trajectories = _cached_simulated(config, robot, progress) + _recorded(config, robot)
    if not trajectories:
        raise TrainingDataError("no training data: simulated.episodes is 0 and no rosbags")
    curated, curation = _curate(config, robot, trajectories)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(curated))
    n_val = round(config.data.validation_fraction * len(curated))
    if len(curated) - n_val < 1:
        raise TrainingDataError(f"only {len(curated)} episodes after curation: none left to train")
    validation = [curated[i] for i in order[:n_val]]
    train = [curated[i] for i in order[n_val:]]
    fraction = config.data.validation_fraction
    if fraction > 0 and not validation:
        # Said once, here: every epoch would otherwise report a validation loss of nan.
        _LOG.warning(
            f"no validation split: {len(curated)} episodes x validation_fraction {fraction} "
            f"rounds to 0 (at least {math.ceil(0.5 / fraction)} episodes give one); training "
            "runs without a validation loss"
        )
    report = {
        "simulated_episodes": config.data.simulated.episodes,
        "rosbags": list(config.data.rosbags),
        "episodes_before_curation": len(trajectories),
        "episodes_train": len(train),
        "episodes_validation": len(validation),
        "samples_train": int(sum(len(t) for t in train)),
        "curation": curation,
        "seconds": time.perf_counter() - start,
    }
    return DataBundle(train=train, validation=validation, report=report)


def _cached_simulated(
    config: TrainConfig, robot: RobotDescription, progress: Progress
) -> list[Trajectory]:
    """The simulated rollouts, reused from report_dir when the same robot, seed,
    data.simulated settings and simulator/expert code produced them before (several models of
    one config share them; an edited expert must not be served its old demonstrations)."""
    settings = dataclasses.asdict(config.data.simulated)
    key = json.dumps([robot.name, config.seed, settings, _rollout_code_digest()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(config.report_dir) / f"rollouts_{robot.name}_{digest}.pkl"
    if path.is_file():
        with path.open("rb") as stream:
            return pickle.load(stream)  # our own cache file, written below
    trajectories = _simulated(config, robot, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as stream:
        pickle.dump(trajectories, stream)
    temporary.replace(path)
    return trajectories


def expert_task_labels(dynamics: PinocchioDynamics, trajectory: Trajectory) -> np.ndarray:
    """The expert's task acceleration (m/s²) at every sample: a fresh expert replays the
    episode in order (its goal poses depend on what it saw before, as when it drove), with the
    target's velocity where the episode recorded it (simulated; a recording has none: no
    feedforward)."""
    expert = OperationalSpaceExpert(dynamics)
    velocities = trajectory.info.get("target_velocity")
    if velocities is None:
        velocities = [None] * len(trajectory.t)
    samples = zip(trajectory.q, trajectory.v, trajectory.target, velocities, strict=True)
    return np.array([expert.task_acceleration(*sample) for sample in samples])


def _rollout_code_digest() -> str:
    """sha256 of the sources that produce a rollout (ltc_control.sim, ltc_control.robots)."""
    digest = hashlib.sha256()
    for package in ("sim", "robots"):
        for source in sorted(source_dir(package).glob("*.py")):
            digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def _simulated(
    config: TrainConfig, robot: RobotDescription, progress: Progress
) -> list[Trajectory]:
    sim = config.data.simulated
    if sim.episodes == 0:
        return []
    rollout = RolloutConfig(**_randomization(sim), initial_speed=sim.initial_speed)
    rng = np.random.default_rng(config.seed)
    seeds = rng.integers(0, 2**31, sim.episodes)
    rates = sim.rate_hz * (1.0 + sim.rate_spread * rng.uniform(-1.0, 1.0, sim.episodes))
    bar = progress(total=sim.episodes, desc=f"{robot.name}: expert rollouts", unit="ep")
    episodes = []
    for seed, rate in zip(seeds, rates, strict=True):
        episodes += collect_rollouts(
            robot, 1, sim.duration_s, float(rate), sim.jitter, int(seed), rollout
        )
        bar.update(1)
    bar.close()
    return episodes


def _recorded(config: TrainConfig, robot: RobotDescription) -> list[Trajectory]:
    if not config.data.rosbags:
        return []
    from ltc_control.data import DataError, read_bag

    trajectories = []
    for bag in config.data.rosbags:
        try:
            trajectories += read_bag(Path(bag), robot, allow_nonfinite=True)
        except DataError as exc:
            raise TrainingDataError(f"rosbag {bag}: {exc}") from exc
    return trajectories


def _curate(
    config: TrainConfig, robot: RobotDescription, trajectories: list[Trajectory]
) -> tuple[list[Trajectory], dict[str, Any]]:
    from ltc_control.data import CurationConfig, DataError, curate

    options = {"balance": None, "seed": config.seed} | dict(config.data.curation)
    try:
        curated, report = curate(trajectories, robot, CurationConfig(**options))
    except (DataError, TypeError) as exc:
        raise TrainingDataError(f"curation (data.curation={options}) failed: {exc}") from exc
    if not curated:
        raise TrainingDataError("curation dropped every episode")
    return curated, _plain(dataclasses.asdict(report)) | {"summary": report.summary()}


class Trainer:
    """Trains the models of one TrainConfig on one DataBundle."""

    def __init__(self, config: TrainConfig, data: DataBundle, progress: Progress = quiet) -> None:
        self.config = config
        self.robot = load_robot_description(config.robot)
        self.dynamics = PinocchioDynamics(self.robot)
        self.data = data
        self.progress = progress
        self.nominal_dt = 1.0 / config.data.simulated.rate_hz
        self.code_version = _code_version()  # the code this process loaded, not later edits
        self.names = signal_names(self.robot.joint_names, config.data.senses, config.data.action)
        self._task_action = config.data.action == EE_ACCELERATION
        # BarrierNet losses need per-sample model terms (barrier_terms).
        self._barrier = any(spec.barriernet for spec in config.models)
        self._head = None
        train = [self.episode(t) for t in data.train]
        self.normalizer = Normalizer.fit(train)
        self.train_episodes = [self.normalizer.normalize(e) for e in train]
        self.validation_episodes = [
            self.normalizer.normalize(self.episode(t)) for t in data.validation
        ]

    def episode(self, trajectory: Trajectory) -> Episode:
        extra = self.barrier_terms if self._barrier else None
        labels = self.task_labels if self._task_action else None
        layout = observation_layout(self.names[0], self.robot.name)  # fresh per episode
        return episode_from_trajectory(
            trajectory, self.gravity, self.nominal_dt, extra, layout, labels
        )

    def task_labels(self, trajectory: Trajectory) -> np.ndarray:
        return expert_task_labels(self.dynamics, trajectory)

    def barrier_terms(self, trajectory: Trajectory) -> np.ndarray:
        """Per sample, what the BarrierNet loss needs beside the network's outputs (BarrierLoss):
        the nominal model's g(q) (torque action) or the expert's law as A, b (tau = A a + b,
        replayed like task_labels), then the filter's constraint rows at the measured state."""
        head = self.barrier_head()
        states = list(zip(trajectory.q, trajectory.v, strict=True))
        rows = np.array([head.sample_rows(q, v) for q, v in states])
        if not self._task_action:
            return np.hstack((np.array([self.gravity(q) for q, _ in states]), rows))
        expert = OperationalSpaceExpert(self.dynamics)
        maps = [
            np.concatenate([np.ravel(part) for part in expert.task_affine(q, v, target)])
            for (q, v), target in zip(states, trajectory.target, strict=True)
        ]
        return np.hstack((np.array(maps), rows))

    def barrier_head(self) -> Any:
        """The BarrierNet head of the training filter (one per trainer: its layer is reused)."""
        if self._head is None:
            from ltc_control.training.barrier import BarrierNetHead

            evaluator = Evaluator(self.robot)
            rate = self.config.data.simulated.rate_hz
            self._head = BarrierNetHead(evaluator.safety_filter(rate))
        return self._head

    def names_for(self, spec: ModelSpec) -> tuple[list[str], ...]:
        """Signal names and units of `spec`'s model file (BarrierNet adds the gain outputs)."""
        if not spec.barriernet:
            return self.names
        gains = self.barrier_head().output_names
        inputs, input_units, outputs, output_units = self.names
        return inputs, input_units, outputs + gains, output_units + ["1"] * len(gains)

    def gravity(self, q: np.ndarray) -> np.ndarray:
        return self.dynamics.gravity(q)

    def train(self, spec: ModelSpec) -> TrainResult:
        import torch

        options = self.config.options_for(spec)
        torch.set_num_threads(options.threads)
        torch.manual_seed(self.config.seed)
        started = time.perf_counter()
        n_in, n_out = len(self.names[0]), len(self.names[2])
        model_options = spec.model_options(n_out)
        loss: Loss = mse_loss
        if spec.barriernet:
            head = self.barrier_head()
            model_options["proj_size"] = n_out + len(head.output_names)
            loss = BarrierLoss(head, self.normalizer, self._task_action)
        model = build_model(spec.kind, n_in, n_out, **model_options)
        run = _Run(model, options, self.config, started, self.progress, spec.name, loss)
        episodes = list(self.train_episodes)
        run.fit(episodes, self.validation_episodes, options.epochs, "bc", run.share(options.epochs))
        dagger = []
        for round_index in range(self.config.dagger.rounds):
            if run.out_of_time():
                break
            new, summary = self.dagger_round(model, spec, round_index)
            episodes += new
            dagger.append(summary | {"episodes_added": len(new)})
            planned = options.epochs + (round_index + 1) * self.config.dagger.epochs
            run.fit(
                episodes,
                self.validation_episodes,
                self.config.dagger.epochs,
                f"dagger{round_index + 1}",
                run.share(planned),
            )
        return self.finish(spec, model, run, dagger, time.perf_counter() - started)

    def dagger_round(
        self, model: SequenceModel, spec: ModelSpec, round_index: int
    ) -> tuple[list[Episode], dict[str, Any]]:
        """Roll out the beta-mixture of expert and learner (no safety filter), label the
        visited states with the expert."""
        sim = self.config.data.simulated
        policy = to_policy(model, self.normalizer, self.names_for(spec), f"{spec.name}-dagger")
        evaluator = Evaluator(
            self.robot,
            EvaluationConfig(
                episodes=self.config.dagger.episodes,
                duration_s=sim.duration_s,
                seed=self.config.seed * 7919 + 101 * (round_index + 1),
                use_filter=False,
                **_randomization(sim),
            ),
        )
        condition = Condition("dagger", sim.rate_hz, sim.jitter)
        beta = self.config.dagger.beta ** (round_index + 1)
        controller = MixedController(
            evaluator.expert_controller(), evaluator.learned_controller(policy, condition), beta
        )
        bar = self.progress(
            total=len(evaluator.episode_seeds()),
            desc=f"{spec.name}: DAgger {round_index + 1}",
            unit="ep",
        )
        results, episodes = [], []
        for seed in evaluator.episode_seeds():
            result, trajectory = evaluator.run_episode(
                controller, seed, condition, label=evaluator.expert.torque
            )
            results.append(result)
            trajectory.info["dagger_round"] = round_index + 1
            episodes.append(self.normalizer.normalize(self.episode(trajectory)))
            bar.update(1)
        bar.close()
        return episodes, {"round": round_index + 1, "beta": beta, "mixture": summarize(results)}

    def finish(
        self, spec: ModelSpec, model: SequenceModel, run: _Run, dagger: list, seconds: float
    ) -> TrainResult:
        model_path = Path(spec.output)
        model_path.parent.mkdir(parents=True, exist_ok=True)
        report_dir = Path(self.config.report_dir)
        report_dir.mkdir(parents=True, exist_ok=True)
        description = (
            f"{spec.kind} {spec.units} neurons, trained by ltc-control train on {self.robot.name} "
            f"expert rollouts (seed {self.config.seed}); "
            f"config_sha256={fingerprint(self.config, spec.name)} code={self.code_version}"
        )
        to_policy(
            model, self.normalizer, self.names_for(spec), spec.name, description, path=model_path
        )
        plot_path = report_dir / f"{spec.name}_loss.png"
        plot_losses(run.history, plot_path, spec.name)
        report = {
            "name": spec.name,
            "robot": self.robot.name,
            "model": dataclasses.asdict(spec),
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "training": dataclasses.asdict(self.config.options_for(spec)),
            "dagger": dagger,
            "seed": self.config.seed,
            "data": self.data.report,
            "normalization": {
                k: np.asarray(v).tolist() for k, v in dataclasses.asdict(self.normalizer).items()
            },
            "history": run.history,
            "final_train_loss": run.history["train_loss"][-1]
            if run.history["train_loss"]
            else None,
            "final_validation_loss": _finite_or_none(run.history["validation_loss"][-1:]),
            "stopped_early": run.stopped_early,
            "seconds": seconds,
            "model_file": str(model_path),
            "loss_plot": str(plot_path),
            "input_names": self.names[0],
            "output_names": self.names_for(spec)[2],
            "host": {"python": platform.python_version(), "machine": platform.machine()},
        }
        if spec.barriernet:  # sample evaluations (all epochs) the filter's braking answered
            report["barrier_qp_fallbacks"] = self.barrier_head().layer.fallbacks
        report_path = report_dir / f"{spec.name}.json"
        report_path.write_text(json.dumps(_plain(report), indent=1))
        return TrainResult(spec.name, model_path, report_path, plot_path, report)


Loss = Callable[..., Any]  # (prediction, y, x, extra) -> scalar tensor, normalized units


def mse_loss(prediction: Any, y: Any, x: Any, extra: Any) -> Any:
    """Mean squared error of the normalized effort over gravity."""
    return ((prediction - y) ** 2).mean()


class BarrierLoss:
    """BarrierNet: outputs [action, raw CBF gains] -> nominal torque -> the safety QP layer ->
    the command, compared with the expert's torque on the same sample.

    Torque action (effort over gravity): nominal = output + g(q); the squared command error in
    the normalized output units (mse_loss's, with the filter in between). Task action
    (ee_acceleration): nominal = the expert's law at the output, clip(A a + b); the loss is
    mse_loss on the action (what reaches the target) plus the squared command error in units
    of the filter's torque reference (what teaches the gains: only the filter's command
    depends on them). `extra` = Trainer.barrier_terms: nominal-model terms, then the rows."""

    def __init__(self, head: Any, normalizer: Normalizer, task_action: bool) -> None:
        import torch

        self.head = head
        self.task_action = task_action
        norm = {
            k: torch.as_tensor(v, dtype=torch.float32)
            for k, v in dataclasses.asdict(normalizer).items()
        }
        self.norm = norm
        self.n_action = len(normalizer.output_mean)
        dof = head.dof
        self.nominal_width = (self.n_action + 1) * dof if task_action else dof
        self.torque_scale = head.torque_reference if task_action else norm["output_std"]
        self.effort = head.effort_limits  # the law's clip, as OperationalSpaceLaw.command

    def __call__(self, prediction: Any, y: Any, x: Any, extra: Any) -> Any:
        dof, norm, n = self.head.dof, self.norm, self.n_action
        raw_inputs = x * norm["input_std"] + norm["input_mean"]
        q, v = raw_inputs[..., :dof], raw_inputs[..., dof : 2 * dof]
        terms, rows = extra[..., : self.nominal_width], extra[..., self.nominal_width :]
        action = prediction[..., :n]
        nominal = self._torque(action * norm["output_std"] + norm["output_mean"], terms)
        expert = self._torque(y * norm["output_std"] + norm["output_mean"], terms)
        command = self.head.command(nominal, prediction[..., n:], q, v, rows)
        loss = (((command - expert) / self.torque_scale) ** 2).mean()
        return loss + mse_loss(action, y, x, extra) if self.task_action else loss

    def _torque(self, action: Any, terms: Any) -> Any:
        """Joint torque (N·m) of a raw action: + g(q), or the law's clip(A a + b)."""
        if not self.task_action:
            return action + terms
        dof, n = self.head.dof, self.n_action
        task_map = terms[..., : dof * n].reshape(*terms.shape[:-1], dof, n)
        tau = (task_map @ action.unsqueeze(-1)).squeeze(-1) + terms[..., dof * n :]
        return tau.clamp(-self.effort, self.effort)


class _Run:
    """Optimizer, cosine learning-rate schedule, history and time budget of one model."""

    def __init__(
        self,
        model: SequenceModel,
        options: TrainingOptions,
        config: TrainConfig,
        started: float,
        progress: Progress,
        name: str,
        loss: Loss,
    ) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.options = options
        self.seed = config.seed
        self.total_epochs = options.epochs + config.dagger.rounds * config.dagger.epochs
        self.optimizer = torch.optim.Adam(model.parameters(), lr=options.learning_rate)
        self.deadline = started + options.time_budget_s
        self.progress = progress
        self.name = name
        self.loss = loss
        self.epoch = 0
        self.stopped_early = False
        self.history: dict[str, list] = {
            "epoch": [],
            "phase": [],
            "train_loss": [],
            "validation_loss": [],
            "learning_rate": [],
            "seconds": [],
        }
        self._started = started

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def share(self, epochs_done: int) -> float:
        """Deadline (perf_counter s) of the phase ending after `epochs_done` planned epochs:
        each phase gets the budget in proportion to its epochs, so a slow model still reaches
        its DAgger rounds."""
        fraction = epochs_done / max(1, self.total_epochs)
        return self._started + fraction * self.options.time_budget_s

    def learning_rate(self) -> float:
        """Cosine decay over the planned epochs (epoch-based, so runs are reproducible)."""
        o = self.options
        fraction = min(1.0, self.epoch / max(1, self.total_epochs - 1))
        return o.min_learning_rate + 0.5 * (o.learning_rate - o.min_learning_rate) * (
            1.0 + math.cos(math.pi * fraction)
        )

    def fit(
        self,
        episodes: list[Episode],
        validation: list[Episode],
        epochs: int,
        phase: str,
        deadline: float,
    ) -> None:
        window = max(1, round(self.options.window_s * _median_rate(episodes)))
        batches = EpisodeBatches(episodes, self.options.batch_size, window, self.seed + self.epoch)
        bar = self.progress(total=epochs, desc=f"{self.name}: {phase}", unit="epoch")
        for _ in range(epochs):
            if self.out_of_time() or time.perf_counter() > deadline:
                self.stopped_early = True
                break
            lr = self.learning_rate()
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            train_loss = self._epoch(batches)
            validation_loss = self.validation_loss(validation)
            for key, value in zip(
                ("epoch", "phase", "train_loss", "validation_loss", "learning_rate", "seconds"),
                (
                    self.epoch,
                    phase,
                    train_loss,
                    validation_loss,
                    lr,
                    time.perf_counter() - self._started,
                ),
                strict=True,
            ):
                self.history[key].append(value)
            bar.update(1)
            shown = "none" if math.isnan(validation_loss) else f"{validation_loss:.4f}"
            bar.set_postfix(train=f"{train_loss:.4f}", val=shown)
            self.epoch += 1
        bar.close()

    def _epoch(self, batches: EpisodeBatches) -> float:
        torch, model = self.torch, self.model
        model.train()
        losses, weights = [], []
        for chunks in batches:
            state = None
            for x, y, dt, extra in chunks:
                x, y, dt, extra = (_tensor(a) for a in (x, y, dt, extra))
                prediction, state = model(x, dt, state)
                loss = self.loss(prediction, y, x, extra)
                self.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.options.grad_clip)
                self.optimizer.step()
                state = model.detach(state)
                losses.append(loss.item())
                weights.append(x.shape[0] * x.shape[1])
        return float(np.average(losses, weights=weights))

    def validation_loss(self, validation: list[Episode]) -> float:
        if not validation:
            return float("nan")
        torch = self.torch
        x, y, dt, extra = (_tensor(a) for a in stack(validation))
        self.model.eval()
        with torch.no_grad():
            prediction, _ = self.model(x, dt)
            return float(self.loss(prediction, y, x, extra))


def _median_rate(episodes: list[Episode]) -> float:
    return 1.0 / float(np.median(np.concatenate([e.dt[1:] for e in episodes])))


def _tensor(array: np.ndarray) -> Any:
    import torch

    return torch.as_tensor(np.asarray(array), dtype=torch.float32)


def _finite_or_none(values: list[float]) -> float | None:
    """The last value, or None if there is none or it is nan (no validation episodes)."""
    return values[-1] if values and not math.isnan(values[-1]) else None


def plot_losses(history: dict[str, list], path: Path, title: str) -> Path:
    """Train and validation loss per epoch (log scale), DAgger rounds marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(history["epoch"], history["train_loss"], label="train")
    if any(not math.isnan(v) for v in history["validation_loss"]):
        axis.plot(history["epoch"], history["validation_loss"], label="validation")
    else:
        title += " (no validation episodes)"
    phases = history["phase"]
    for i in range(1, len(phases)):
        if phases[i] != phases[i - 1]:
            axis.axvline(history["epoch"][i], color="grey", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("MSE (normalized effort over gravity)")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def run_training(
    config: TrainConfig, progress: Progress = quiet, force: bool = False
) -> tuple[DataBundle, list[TrainResult]]:
    """Prepare the data once, then train (and write) every model of the config.

    A shipped model is overwritten only with `force` (refused before any work otherwise).
    """
    config.check_outputs(force)
    robot = load_robot_description(config.robot)
    data = prepare_data(config, robot, progress)
    trainer = Trainer(config, data, progress)
    return data, [trainer.train(spec) for spec in config.models]


def _plain(value: Any) -> Any:
    """JSON-ready copy (numpy arrays and scalars to lists and floats, NaN to None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _code_version() -> str:
    """The source tree's git commit ("+dirty" if ltc_control/ or config/ have uncommitted
    changes), or "unknown"."""
    import subprocess

    root = share_dir()  # the checkout, when training runs from one
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "ltc_control", "config"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")

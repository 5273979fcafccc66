"""Wirings: which neuron talks to which, as data (adjacency matrices), separate from the cells.

A wiring has `units` hidden neurons, `input_dim` sensory inputs (known after `build`) and
`output_dim` motor neurons. `adjacency[src, dest]` and `sensory_adjacency[src, dest]` hold the
synapse polarity: +1 excitatory, -1 inhibitory, 0 no synapse. Neuron ids follow ncps 1.0.1:
motor neurons are ids `0..output_dim-1`; an NCP continues with command then inter neurons.

The constructors replicate ncps 1.0.1 (`ncps.wirings`) draw for draw, so the same seed gives the
same adjacency. `to_config()` always carries the adjacency matrices once built, so
`Wiring.from_config(w.to_config())` is the identical wiring even when the wiring came from a
trained module whose seed is unknown (ncps' own `NCP.get_config` cannot round-trip).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ltc_control.runtime.errors import WiringError
from ltc_control.runtime.parameters import settings

_POLARITIES = (-1, 0, 1)


class Wiring:
    """A hand-made wiring: one layer, motor neurons first, everything else "inter"."""

    kind: ClassVar[str] = "custom"
    # Constructor argument -> attribute holding it (what `params` returns).
    SETTINGS: ClassVar[dict[str, str]] = {"units": "units", "output_dim": "output_dim"}

    def __init__(self, units: int, output_dim: int | None = None) -> None:
        if int(units) < 1:
            raise WiringError(f"a wiring needs at least one neuron, got units={units}")
        self.units = int(units)
        self.output_dim = self.units if output_dim is None else int(output_dim)
        if not 1 <= self.output_dim <= self.units:
            raise WiringError(f"output_dim must be in [1, {self.units}], got {output_dim}")
        self.adjacency = np.zeros((self.units, self.units), dtype=np.int32)
        self.sensory_adjacency: np.ndarray | None = None
        self.input_dim: int | None = None

    # --- construction -------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this wiring (before `build`)."""
        return settings(self, self.SETTINGS)

    def is_built(self) -> bool:
        return self.input_dim is not None

    def build(self, input_dim: int) -> None:
        """Fix the number of sensory inputs (and, in subclasses, draw the sensory synapses)."""
        if self.input_dim is not None and self.input_dim != input_dim:
            raise WiringError(f"wiring already built for {self.input_dim} inputs, not {input_dim}")
        if self.input_dim is None:
            self.set_input_dim(input_dim)

    def set_input_dim(self, input_dim: int) -> None:
        if int(input_dim) < 1:
            raise WiringError(f"input_dim must be >= 1, got {input_dim}")
        self.input_dim = int(input_dim)
        self.sensory_adjacency = np.zeros((self.input_dim, self.units), dtype=np.int32)

    def add_synapse(self, src: int, dest: int, polarity: int) -> None:
        _check_synapse(src, self.units, dest, self.units, polarity)
        self.adjacency[src, dest] = polarity

    def add_sensory_synapse(self, src: int, dest: int, polarity: int) -> None:
        if self.sensory_adjacency is None:
            raise WiringError("cannot add sensory synapses before build()")
        _check_synapse(src, self.input_dim, dest, self.units, polarity)
        self.sensory_adjacency[src, dest] = polarity

    # --- structure ----------------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        return 1

    def neurons_of_layer(self, layer: int) -> list[int]:
        """Neuron ids of one layer; WiredCfC runs one CfC layer per wiring layer."""
        if layer != 0:
            raise WiringError(f"{type(self).__name__} has one layer, asked for layer {layer}")
        return list(range(self.units))

    def neuron_group(self, neuron_id: int) -> str:
        """Group ("motor", "command", "inter") of a hidden neuron, as ncps names it."""
        return "motor" if neuron_id < self.output_dim else "inter"

    @property
    def groups(self) -> dict[str, list[int]]:
        """Neuron ids per group, groups in sensory-to-motor order."""
        order = ("inter", "command", "motor")
        found: dict[str, list[int]] = {}
        for neuron in range(self.units):
            found.setdefault(self.neuron_group(neuron), []).append(neuron)
        return {name: found[name] for name in order if name in found}

    @property
    def synapse_count(self) -> int:
        return int(np.abs(self.adjacency).sum())

    @property
    def sensory_synapse_count(self) -> int:
        return 0 if self.sensory_adjacency is None else int(np.abs(self.sensory_adjacency).sum())

    # --- config round trip --------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """JSON-ready description; carries the adjacency so the round trip is exact."""
        return {
            "kind": self.kind,
            "params": self.params(),
            "input_dim": self.input_dim,
            "adjacency": self.adjacency.tolist(),
            "sensory_adjacency": (
                None if self.sensory_adjacency is None else self.sensory_adjacency.tolist()
            ),
        }

    @staticmethod
    def from_config(config: dict[str, Any]) -> Wiring:
        """Rebuild a wiring from `to_config()` output (adjacency taken as given, not redrawn)."""
        try:
            cls = WIRING_KINDS[config["kind"]]
            wiring = cls._from_params(dict(config["params"]))
            input_dim = config.get("input_dim")
            adjacency = config.get("adjacency")
            sensory = config.get("sensory_adjacency")
        except (KeyError, TypeError) as exc:
            raise WiringError(f"malformed wiring config ({exc!r}): {config!r:.200}") from exc
        if adjacency is not None:
            wiring._set_adjacency(adjacency, input_dim, sensory)
        elif input_dim is not None:
            wiring.build(input_dim)
        return wiring

    @classmethod
    def _from_params(cls, params: dict[str, Any]) -> Wiring:
        return cls(**params)

    def _set_adjacency(self, adjacency: Any, input_dim: int | None, sensory: Any) -> None:
        self.adjacency = _polarity_matrix(adjacency, (self.units, self.units), "adjacency")
        if input_dim is None:
            return
        self.set_input_dim(input_dim)
        if sensory is not None:
            self.sensory_adjacency = _polarity_matrix(
                sensory, (self.input_dim, self.units), "sensory_adjacency"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Wiring) and self.to_config() == other.to_config()

    __hash__ = None  # mutable (build() changes it)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params()}, input_dim={self.input_dim})"


class FullyConnected(Wiring):
    """Every neuron connects to every neuron (polarity drawn -1:+1 = 1:2), as ncps."""

    kind = "fully_connected"
    SETTINGS: ClassVar[dict[str, str]] = {
        **Wiring.SETTINGS,
        "erev_init_seed": "erev_init_seed",
        "self_connections": "self_connections",
    }

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        erev_init_seed: int = 1111,
        self_connections: bool = True,
    ) -> None:
        super().__init__(units, output_dim)
        self.erev_init_seed = erev_init_seed
        self.self_connections = bool(self_connections)
        self._rng = np.random.default_rng(erev_init_seed)
        for src in range(self.units):
            for dest in range(self.units):
                if src == dest and not self.self_connections:
                    continue
                self.add_synapse(src, dest, self._rng.choice([-1, 1, 1]))

    def build(self, input_dim: int) -> None:
        super().build(input_dim)
        for src in range(self.input_dim):
            for dest in range(self.units):
                self.add_sensory_synapse(src, dest, self._rng.choice([-1, 1, 1]))


class Random(Wiring):
    """A random fraction `1 - sparsity_level` of all synapses, as ncps (including its draws)."""

    kind = "random"
    SETTINGS: ClassVar[dict[str, str]] = {
        **Wiring.SETTINGS,
        "sparsity_level": "sparsity_level",
        "random_seed": "random_seed",
    }

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        sparsity_level: float = 0.0,
        random_seed: int = 1111,
    ) -> None:
        super().__init__(units, output_dim)
        if not 0.0 <= sparsity_level < 1.0:
            raise WiringError(f"sparsity_level must be in [0, 1), got {sparsity_level}")
        self.sparsity_level = float(sparsity_level)
        self.random_seed = random_seed
        self._rng = np.random.default_rng(random_seed)
        for src, dest in self._draw_pairs(self.units):
            self.add_synapse(src, dest, self._rng.choice([-1, 1, 1]))

    def _draw_pairs(self, sources: int) -> np.ndarray:
        count = int(np.round(sources * self.units * (1 - self.sparsity_level)))
        pairs = [(src, dest) for src in range(sources) for dest in range(self.units)]
        return self._rng.choice(pairs, size=count, replace=False)

    def build(self, input_dim: int) -> None:
        super().build(input_dim)
        for src, dest in self._draw_pairs(self.input_dim):
            # ncps 1.0.1 draws two polarities per sensory synapse and keeps the second;
            # both draws are kept so the same seed gives the same adjacency.
            self.add_sensory_synapse(src, dest, self._rng.choice([-1, 1, 1]))
            self.add_sensory_synapse(src, dest, self._rng.choice([-1, 1, 1]))


class NCP(Wiring):
    """Neural circuit policy: sensory -> inter -> command (recurrent) -> motor, as ncps.

    Neuron ids: motor `0..m-1`, then command, then inter. Layers (for WiredCfC) run
    inter, command, motor. `seed=None` means "unknown" (a converted wiring whose adjacency is
    given); such a wiring cannot draw new synapses.
    """

    kind = "ncp"
    SETTINGS: ClassVar[
        dict[str, str]
    ] = {  # the neuron lists are attributes of those names: the counts are num_*
        "inter_neurons": "num_inter",
        "command_neurons": "num_command",
        "motor_neurons": "num_motor",
        "sensory_fanout": "sensory_fanout",
        "inter_fanout": "inter_fanout",
        "recurrent_command_synapses": "recurrent_command_synapses",
        "motor_fanin": "motor_fanin",
        "seed": "seed",
    }

    def __init__(
        self,
        inter_neurons: int,
        command_neurons: int,
        motor_neurons: int,
        sensory_fanout: int,
        inter_fanout: int,
        recurrent_command_synapses: int,
        motor_fanin: int,
        seed: int | None = 22222,
    ) -> None:
        super().__init__(inter_neurons + command_neurons + motor_neurons, motor_neurons)
        self.num_inter, self.num_command, self.num_motor = (
            inter_neurons,
            command_neurons,
            motor_neurons,
        )
        self.sensory_fanout = sensory_fanout
        self.inter_fanout = inter_fanout
        self.recurrent_command_synapses = recurrent_command_synapses
        self.motor_fanin = motor_fanin
        self.seed = seed
        self.motor_neurons = list(range(motor_neurons))
        self.command_neurons = list(range(motor_neurons, motor_neurons + command_neurons))
        self.inter_neurons = list(range(motor_neurons + command_neurons, self.units))
        for name, fan, available in (
            ("motor_fanin", motor_fanin, command_neurons),
            ("sensory_fanout", sensory_fanout, inter_neurons),
            ("inter_fanout", inter_fanout, command_neurons),
        ):
            if fan > available:
                raise WiringError(f"{name} is {fan} but only {available} neurons can receive it")

    @property
    def num_layers(self) -> int:
        return 3

    def neurons_of_layer(self, layer: int) -> list[int]:
        layers = (self.inter_neurons, self.command_neurons, self.motor_neurons)
        if not 0 <= layer < len(layers):
            raise WiringError(f"NCP has 3 layers, asked for layer {layer}")
        return list(layers[layer])

    def neuron_group(self, neuron_id: int) -> str:
        if neuron_id < self.num_motor:
            return "motor"
        if neuron_id < self.num_motor + self.num_command:
            return "command"
        return "inter"

    def build(self, input_dim: int) -> None:
        if self.is_built():
            super().build(input_dim)
            return
        if self.seed is None:
            raise WiringError("an NCP with unknown seed cannot draw synapses; pass its adjacency")
        super().build(input_dim)
        rng = np.random.RandomState(self.seed)
        sensory = list(range(self.input_dim))
        self._connect_layer(rng, sensory, self.inter_neurons, self.sensory_fanout, sensory=True)
        self._connect_layer(rng, self.inter_neurons, self.command_neurons, self.inter_fanout)
        for _ in range(self.recurrent_command_synapses):
            src = rng.choice(self.command_neurons)
            dest = rng.choice(self.command_neurons)
            self.add_synapse(src, dest, rng.choice([-1, 1]))
        self._connect_motor_layer(rng)

    def _connect_layer(
        self,
        rng: np.random.RandomState,
        sources: list[int],
        targets: list[int],
        fanout: int,
        sensory: bool = False,
    ) -> None:
        """Each source gets `fanout` random targets; unreached targets get a mean fan-in."""
        add = self.add_sensory_synapse if sensory else self.add_synapse
        unreached = list(targets)
        for src in sources:
            for dest in rng.choice(targets, size=fanout, replace=False):
                if dest in unreached:
                    unreached.remove(dest)
                add(src, dest, rng.choice([-1, 1]))
        # ncps clips the inter->command fan-in by the number of *command* neurons (its quirk).
        upper = len(sources) if sensory else self.num_command
        fanin = int(np.clip(int(len(sources) * fanout / len(targets)), 1, upper))
        for dest in unreached:
            for src in rng.choice(sources, size=fanin, replace=False):
                add(src, dest, rng.choice([-1, 1]))

    def _connect_motor_layer(self, rng: np.random.RandomState) -> None:
        """Each motor neuron gets `motor_fanin` commands; unused commands get a mean fan-out."""
        unused = list(self.command_neurons)
        for dest in self.motor_neurons:
            for src in rng.choice(self.command_neurons, size=self.motor_fanin, replace=False):
                if src in unused:
                    unused.remove(src)
                self.add_synapse(src, dest, rng.choice([-1, 1]))
        fanout = int(
            np.clip(int(self.num_motor * self.motor_fanin / self.num_command), 1, self.num_motor)
        )
        for src in unused:
            for dest in rng.choice(self.motor_neurons, size=fanout, replace=False):
                self.add_synapse(src, dest, rng.choice([-1, 1]))


class AutoNCP(NCP):
    """An NCP sized from `units`, `output_size` and `sparsity_level`, as ncps."""

    kind = "auto_ncp"
    SETTINGS: ClassVar[dict[str, str]] = {
        key: key for key in ("units", "output_size", "sparsity_level", "seed")
    }

    def __init__(
        self, units: int, output_size: int, sparsity_level: float = 0.5, seed: int = 22222
    ) -> None:
        if output_size >= units - 2:
            raise WiringError(f"output_size must be < units - 2 (units={units}, got {output_size})")
        if not 0.1 <= sparsity_level <= 1.0:
            raise WiringError(f"sparsity_level must be in [0.1, 1.0], got {sparsity_level}")
        self.output_size = output_size
        self.sparsity_level = sparsity_level
        density = 1.0 - sparsity_level
        inter_and_command = units - output_size
        command = max(int(0.4 * inter_and_command), 1)
        inter = inter_and_command - command
        super().__init__(
            inter_neurons=inter,
            command_neurons=command,
            motor_neurons=output_size,
            sensory_fanout=max(int(inter * density), 1),
            inter_fanout=max(int(command * density), 1),
            recurrent_command_synapses=max(int(command * density * 2), 1),
            motor_fanin=max(int(command * density), 1),
            seed=seed,
        )


WIRING_KINDS: dict[str, type[Wiring]] = {
    cls.kind: cls for cls in (Wiring, FullyConnected, Random, NCP, AutoNCP)
}


def _check_synapse(src: int, sources: int, dest: int, targets: int, polarity: int) -> None:
    if not 0 <= src < sources:
        raise WiringError(f"synapse source {src} outside [0, {sources})")
    if not 0 <= dest < targets:
        raise WiringError(f"synapse target {dest} outside [0, {targets})")
    if polarity not in (-1, 1):
        raise WiringError(f"synapse polarity must be -1 or +1, got {polarity}")


def _polarity_matrix(values: Any, shape: tuple[int, int], name: str) -> np.ndarray:
    matrix = np.asarray(values)
    if matrix.shape != shape:
        raise WiringError(f"{name} has shape {matrix.shape}, the wiring needs {shape}")
    if not np.isin(matrix, _POLARITIES).all():
        raise WiringError(f"{name} entries must be -1, 0 or +1")
    return matrix.astype(np.int32)

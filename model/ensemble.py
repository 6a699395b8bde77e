"""One way to run many runs: a `RunSet` says which runs (scenario, root seed, each run's spawn key, its own
parameter values and design sample), and `run_chunks` advances them in lockstep chunks.

Every caller that runs more than one run goes through here: `simulate` (replicates 0..n-1), the batch runner (a
task's (design, replicate) keys with per-run values), the lever audit (every lever's runs with common random numbers)
and the calibration (every parameter vector's runs with common random numbers). A run's numbers depend only on its
spawn key, its values and its sample, never on the chunk it was advanced in (each run has its own random stream,
`SeedSequence(seed, spawn_key=key)`), so the chunk is a matter of speed and memory only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .core import GreatGameModel
from .scenario import Scenario


@dataclass(frozen=True)
class RunSet:
    """Runs to simulate together: run i uses `SeedSequence(seed, spawn_key=keys[i])`, its own values
    `values[k][i]` for each key k given (None: the scenario's own values and draws), design sample `samples[i]`
    (None: 0 for all) and `steps` periods (None: the scenario's)."""

    scenario: Scenario
    seed: int
    keys: tuple[tuple[int, ...], ...]
    values: Mapping[str, np.ndarray] | None = field(default=None, compare=False)
    samples: tuple[int, ...] | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        n = len(self.keys)
        for k, v in (self.values or {}).items():
            if len(v) != n:
                raise ValueError(f"RunSet: values[{k!r}] has {len(v)} entries for {n} runs")
        if self.samples is not None and len(self.samples) != n:
            raise ValueError(f"RunSet: {len(self.samples)} samples for {n} runs")

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def replicates(cls, scenario: Scenario, runs: int, seed: int | None = None, first: int = 0,
                   steps: int | None = None) -> RunSet:
        """Replicates first, first+1, ..., first+runs-1 of the scenario (spawn keys (first + k,)); seed None: the
        scenario's."""
        return cls(scenario, _seed(scenario, seed), tuple((first + k,) for k in range(runs)), steps=steps)

    @classmethod
    def common_numbers(cls, scenario: Scenario, runs: int, variants: Sequence[Mapping[str, np.ndarray]],
                       seed: int | None = None, steps: int | None = None) -> RunSet:
        """`runs` runs of each variant (a mapping key -> the values of its `runs` runs), with common random numbers:
        run r of every variant has spawn key (r,), so variants differ only by their values."""
        names = sorted({k for v in variants for k in v})
        stacked = {k: np.concatenate([np.asarray(v[k]) for v in variants]) for k in names}
        return cls(scenario, _seed(scenario, seed), tuple((r,) for _ in variants for r in range(runs)),
                   stacked or None, steps=steps)

    @classmethod
    def vectors(cls, scenario: Scenario, names: Sequence[str] | None, X: np.ndarray | None, runs: int,
                seed: int | None = None, steps: int | None = None) -> RunSet:
        """`runs` runs of each parameter vector (rows of X, one column per key in `names`) with common random
        numbers (spawn keys (0,) .. (runs-1,) for every vector); X None: `runs` runs of the scenario's own values."""
        if X is None:
            return cls.replicates(scenario, runs, seed, steps=steps)
        values = {k: np.repeat(X[:, i], runs) for i, k in enumerate(names or [])}
        return cls(scenario, _seed(scenario, seed), tuple((r,) for _ in range(len(X)) for r in range(runs)),
                   values, steps=steps)

    def part(self, lo: int, hi: int) -> RunSet:
        """Runs lo..hi-1 of this set."""
        return RunSet(self.scenario, self.seed, self.keys[lo:hi],
                      None if self.values is None else {k: np.asarray(v)[lo:hi] for k, v in self.values.items()},
                      None if self.samples is None else self.samples[lo:hi], self.steps)

    def model(self, record_into: dict[str, np.ndarray] | None = None) -> GreatGameModel:
        """The lockstep model of all these runs (not yet advanced)."""
        return GreatGameModel(self.scenario, spawn_keys=list(self.keys), rng=self.seed, steps=self.steps,
                              run_values=dict(self.values) if self.values else None,
                              samples=list(self.samples) if self.samples is not None else None,
                              record_into=record_into)


def _seed(scenario: Scenario, seed: int | None) -> int:
    return int(seed if seed is not None else scenario.raw["seed"])


def run_chunks(runs: RunSet, chunk: int | None = None,
               record_into: dict[str, np.ndarray] | None = None) -> Iterator[tuple[slice, GreatGameModel]]:
    """Advance the runs to their horizon in lockstep chunks of at most `chunk` runs (None: all at once), yielding
    (the chunk's slice of the run axis, its finished model). With `record_into` (arrays with a run axis second, as
    `Recorder.shapes`), each chunk records into its slice of those arrays in place."""
    n = len(runs)
    size = n if chunk is None else max(1, int(chunk))
    for lo in range(0, n, size):
        hi = min(n, lo + size)
        into = None if record_into is None else {name: arr[:, lo:hi] for name, arr in record_into.items()}
        yield slice(lo, hi), runs.part(lo, hi).model(record_into=into).run()

"""The shipped scenarios carry the decision rule estimated on the record (issue 17 item 3): the behaviour files are
the bootstrap's replicates column for column (`bootstrap.draws_file`), and the 2017 backcast reads only the
estimate made on what was known in mid-2017."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.fit import rule
from greatgame.experiments.fit.bootstrap import draws_file
from greatgame.model import keypaths
from greatgame.model.files import SCENARIOS
from greatgame.model.scenario import load_scenario
from greatgame.model.schema import BEHAVIOUR, RULE_KEYS

RULE_DIR = Path(__file__).resolve().parents[1] / "model" / "data" / "rule"


def _bootstrap(tmp_path: Path) -> Path:
    cols = ["model." + k.removeprefix("parameters.") for k in BEHAVIOUR.keys]
    rows = [{"replicate": r, "seed": r + 17, **{c: 100 * r + j + 0.5 for j, c in enumerate(cols)}} for r in (1, -1, 0)]
    path = tmp_path / "boot.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_draws_file_takes_every_replicate_in_order_without_the_estimate(tmp_path):
    draws = draws_file(_bootstrap(tmp_path), tmp_path / "draws.csv")
    back = pd.read_csv(tmp_path / "draws.csv")
    assert tuple(back.columns) == BEHAVIOUR.keys and len(back) == 2
    np.testing.assert_allclose(back.to_numpy(), draws.to_numpy())
    assert back.iloc[0, 0] == 0.5 and back.iloc[1, 0] == 100.5 and back.iloc[1, -1] == 100 + len(BEHAVIOUR.keys) - 0.5


def test_draws_file_refuses_a_bootstrap_without_a_column(tmp_path):
    path = _bootstrap(tmp_path)
    pd.read_csv(path).drop(columns=["model.weights.hedging"]).to_csv(path, index=False)
    with pytest.raises(SystemExit, match="model.weights.hedging"):
        draws_file(path, tmp_path / "draws.csv")


def test_the_estimation_frees_exactly_the_weights_the_scenarios_take_from_it():
    """The baseline's rule values are the estimate's free parameters, so carrying them in the baseline (which the
    estimation reads for everything it holds fixed) leaves the estimate unchanged; the investment weight is held."""
    assert tuple(f"parameters.{k}" for k in rule.WEIGHTS) == RULE_KEYS
    assert "weights.investment" not in rule.WEIGHTS


@pytest.mark.parametrize(("scenario", "boot", "upto", "draws"), [
    ("baseline.yaml", "bootstrap_2022.csv", 2022.83, "rule_draws_2022.csv"),
    ("backcast_2017.yaml", "bootstrap_2017.csv", 2017.5, "rule_draws_2017.csv"),
])
def test_scenario_carries_its_own_vintage_of_the_estimate(scenario, boot, upto, draws):
    raw = load_scenario(SCENARIOS / scenario).raw
    table = pd.read_csv(RULE_DIR / boot)
    assert np.allclose(table["upto"], upto)
    estimate = table[table["replicate"] == -1].iloc[0]
    assert raw["parameters"]["rationality"] == 1.0
    for key in BEHAVIOUR.keys:
        assert math.isclose(keypaths.get(raw, key), estimate["model." + key.removeprefix("parameters.")],
                            rel_tol=5e-6), (scenario, key)
    assert Path(raw["uncertainty"]["behaviour"]["file"]).name == draws
    expected = draws_file(RULE_DIR / boot, Path("/dev/null"))
    shipped = pd.read_csv(SCENARIOS / draws)
    assert tuple(shipped.columns) == BEHAVIOUR.keys and len(shipped) == 200
    np.testing.assert_allclose(shipped.to_numpy(), expected.to_numpy(), rtol=5e-6)


def test_backcast_reads_no_2022_estimate():
    bc = load_scenario(SCENARIOS / "backcast_2017.yaml").raw
    est22 = pd.read_csv(RULE_DIR / "bootstrap_2022.csv").query("replicate == -1").iloc[0]
    for key in BEHAVIOUR.keys:
        assert not math.isclose(keypaths.get(bc, key), est22["model." + key.removeprefix("parameters.")],
                                rel_tol=1e-5), key  # 6 significant digits apart
    assert "rule_draws_2022" not in bc["uncertainty"]["behaviour"]["file"]

"""`greatgame estimate` (issue 17, PROTOCOL 4): the command writes the fitted rule's table, the full model does at
least as well as the restricted one it nests, and bad options end in one line with exit status 2."""

import pandas as pd
import pytest

from greatgame.cli import main


def test_estimate_writes_the_full_and_restricted_fits(tmp_path):
    out = tmp_path / "est"
    assert main(["estimate", "--upto", "2005.0", "--starts", "2", "--no-profile", "--quiet", "--out", str(out)]) == 0
    table = pd.read_csv(out / "estimate.csv")
    assert (table["model"] == "full").sum() == 19 and (table["model"] == "restricted").sum() == 8
    assert table["status"].eq("estimated").all()
    md = (out / "estimate.md").read_text()
    assert "In sample" in md and "weights.investment" in md and "cut at 2005.0" in md
    lines = [ln for ln in md.splitlines() if ln.startswith("| full |") or ln.startswith("| restricted (")]
    full, restricted = (float(ln.split("|")[3]) for ln in lines[:2])
    assert full >= restricted - 1e-6  # the restricted fit is one of the full model's starts: L-BFGS-B only climbs


@pytest.mark.parametrize(("args", "words"), [
    (["--upto", "1990"], ["--upto", "outside the record"]),
    (["--record", "no_such_record.csv"], ["--record", "is not a file"]),
    (["--starts", "5"], ["--starts", "must be 1, 2 or 3"]),
])
def test_estimate_bad_options_are_one_line(tmp_path, capsys, args, words):
    rc = main(["estimate", *args, "--quiet", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and all(w in err[0] for w in words)
    assert not (tmp_path / "x").exists()

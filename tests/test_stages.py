"""Chapter 6 and the replication's chains take one measurement in one place: the same stage functions, the same
defaults, the same rules; the one-run claims table (verdicts, distances, glue values) pinned on a made-up chain."""

import ast
import re
from dataclasses import fields
from pathlib import Path

import jupytext
import pytest

from symbiote_lite import replication as R
from symbiote_lite import stages as S
from tests.test_replication import chain

ROOT = Path(__file__).resolve().parent.parent
CHAPTER6 = ROOT / "notebooks" / "06_circuits.py"
PARAMETERS = {"SEED": "seed", "STEPS": "steps", "BATCH_SIZE": "batch_size", "HELD_OUT": "held_out",
              "SIZES": "sizes", "STEER_LR_FACTORS": "steer_lr_factors", "N_PAIR_IMAGES": "n_pair_images",
              "N_NULL": "n_null"}


def parameter_cell(path: Path) -> dict:
    """The literal assignments of a notebook's ``parameters`` cell."""
    nb = jupytext.read(path)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body}


def test_chapter6_parameters_are_the_one_config_and_the_chain_config():
    values = parameter_cell(CHAPTER6)
    assert set(values) == set(PARAMETERS), "every parameter of chapter 6 is a field of CircuitsConfig"
    assert {f.name for f in fields(S.CircuitsConfig)} == set(PARAMETERS.values())
    default = S.CircuitsConfig()
    for name, field in PARAMETERS.items():
        assert values[name] == getattr(default, field), f"chapter 6's {name} differs from CircuitsConfig.{field}"
    assert R.ChainConfig is S.CircuitsConfig, "a chain is chapter 6's config under its seed"
    source = CHAPTER6.read_text()
    for name, field in PARAMETERS.items():
        assert f"{field}={name}" in source, f"chapter 6 must build its config from {name}"


def test_chapter6_and_run_chain_call_the_same_stages(monkeypatch):
    called = []

    def recorder(name):
        def fake(*args, **kwargs):
            called.append((name, args))
            return name
        return fake

    for name in ("setting", *S.STAGES):
        monkeypatch.setattr(S, name, recorder(name))
    monkeypatch.setattr(S, "chain_record", lambda *results, **kw: {"results": results, "seed": results[-1]})
    out = R.run_chain(R.ChainConfig(seed=3), "cpu", data=(("xt", "yt"), ("x", "y")))
    assert [c[0] for c in called] == ["setting", *S.STAGES], "run_chain runs every stage, in chapter 6's order"
    assert called[0][1][0] == S.CircuitsConfig(seed=3), "with chapter 6's defaults under the chain's seed"
    assert set(out["stage_seconds"]) == {"setting", *S.STAGES}
    source = CHAPTER6.read_text()
    used = re.findall(r"\bS\.(\w+_stage)\(", source)
    assert used == list(S.STAGES), "chapter 6 calls the same stages, one per section, in the same order"
    assert "R.single_run_claims(" in source, "chapter 6 decides with the replication's rules"


def test_half_and_largest_picks_the_half_size_and_the_largest():
    assert S.half_and_largest([0.08, 0.45, 1.5]) == (1, 2)
    assert S.half_and_largest([0.6, 0.9, 0.7]) == (0, 1), "none at most half: the smallest stands in"
    assert S.half_and_largest([0.5, 0.2]) == (0, 0)


def test_distances_are_to_each_tests_threshold_plus_margin():
    n = R.claim_numbers(chain(forget3=0.004, drop3=0.002))  # dense digit 3: 0.4 %, 0.2 points
    m = R.distances(n)
    assert m["digit3"] == pytest.approx(0.1), "0.4 % is 0.1 below the 0.5 % target"
    assert m["slower"] == pytest.approx(2.0), "ratio 4 is 2 above the threshold 2"
    assert m["polysemantic"] == pytest.approx(0.075), "selectivity gain 0.1, margin 0.025"
    assert m["compression"] == pytest.approx(0.05), "conv2: gain 0.05 against the margin 0.1"
    assert m["circuits"] == pytest.approx(0.0), "planted poly AUROC 0.9 sits on its threshold"


def test_single_run_claims_decide_with_the_replication_rules():
    c = R.single_run_claims(chain(forget3=0.004, drop3=0.002) | {"poly": {
        "classes": [2.0, 2.5], "selectivity": [0.5, 0.4], "verdict": "more polysemantic"}})
    assert c.verdicts == R.point_verdicts(c.numbers)
    assert c.verdicts["digit3"] == "supported" and c.verdicts["slower"] == "supported"
    assert c.verdicts["compression"] == "partly", "fc1's gain 0.2 reaches the margin 0.1, conv2's 0.05 does not"
    table = c.table()
    assert list(table["claim"]) == list(R.CLAIM_NAMES.values())
    assert "forget 0.40 % / 0.20 %" in table.loc[0, "measured"]
    glue = c.glue_values()
    assert glue["verdict_compression"] == "partly" and glue["distance_compression"] == pytest.approx(0.05)
    assert glue["train_ratio"] == 4.0 and glue["sym_train_seconds"] == 40.0
    assert glue["poly_verdict"] == "more polysemantic"

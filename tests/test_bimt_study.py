import ast
import dataclasses
from pathlib import Path

import jupytext
import pytest
import torch

from symbiote_lite import bimt, bimt_mlp
from symbiote_lite import bimt_study as study
from symbiote_lite.artifacts import DATA_ENV
from symbiote_lite.bimt import BIMTConfig
from symbiote_lite.bimt_mlp import MLPConfig
from symbiote_lite.primary import PrimaryCNN, PrimaryConfig, accuracy, count_parameters

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_bimt_pruning.py"
SMALL = PrimaryConfig(channels1=3, channels2=4, hidden=5, epochs=1, batch_size=4)


def _cnn(seed=0, config=SMALL):
    torch.manual_seed(seed)
    return PrimaryCNN(config.channels1, config.channels2, config.hidden).eval()


# --- the chapter's parameters ---


def _notebook_parameters() -> dict:
    """{NAME: value} of the assignments in chapter 3's cell tagged ``parameters``."""
    cells = [c for c in jupytext.read(NOTEBOOK).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "chapter 3 needs exactly one cell tagged parameters"
    values = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def test_notebook_parameters_are_the_library_defaults():
    values = _notebook_parameters()
    defaults = study.Chapter3Config()
    fields = {f.name for f in dataclasses.fields(study.Chapter3Config)}
    assert {name.lower() for name in values} == fields, "every parameter of the chapter is a Chapter3Config field"
    for name, value in values.items():
        default = getattr(defaults, name.lower())
        assert value == default and type(value) is type(default), f"{name} = {value!r}, library default {default!r}"
    assert study.Chapter3Config(**{k.lower(): v for k, v in values.items()}).is_default


def test_chapter_config_reads_the_library_defaults():
    cfg = study.Chapter3Config()
    assert cfg.bimt_config == BIMTConfig() and cfg.mlp_config == MLPConfig()
    assert cfg.long_config == BIMTConfig(epochs=8.0, lam=1e-4)
    assert (cfg.target_sparsity, cfg.epochs, cfg.lam, cfg.seed) == (BIMTConfig().target_sparsity,
                                                                    BIMTConfig().epochs, BIMTConfig().lam,
                                                                    BIMTConfig().seed)
    assert cfg.mlp_steps == MLPConfig().steps


@pytest.mark.parametrize("change", [{"target_sparsity": 0.8}, {"epochs": 1.0}, {"lam": 0.0},
                                    {"response_fraction": 0.25}, {"mlp_steps": 500}, {"draw_threshold": 0.1},
                                    {"n_null": 5}, {"long_epochs": 4.0}, {"long_lam": 1e-3}, {"seed": 1}])
def test_any_changed_parameter_turns_the_prose_checks_off(change):
    cfg = study.Chapter3Config(**change)
    assert not cfg.is_default
    seed = change.get("seed", 0)
    assert cfg.bimt_config.seed == cfg.mlp_config.seed == cfg.long_config.seed == seed
    assert cfg.long_config == dataclasses.replace(cfg.bimt_config, epochs=cfg.long_epochs, lam=cfg.long_lam)


# --- shared helpers ---


def _history(steps=10):
    strength = [torch.full((2, 1), float(k)) for k in range(4)]
    wiring = {name: {"strength": [a + k for a in strength], "signed": [-a - k for a in strength]}
              for k, name in enumerate(("start", "middle", "end"))}
    return {"steps": steps, "wiring": wiring}


def test_wiring_stages_names_each_snapshot_by_its_step():
    stages = study.wiring_stages(_history(10))
    assert list(stages) == ["start (step 0)", "middle (step 5)", "end (step 10)"]
    strength, signed = stages["end (step 10)"]
    assert torch.equal(strength[3], torch.full((2, 1), 5.0)) and torch.equal(signed[3], -strength[3])


def test_fc1_pair_share_counts_the_drawn_fc1_connections():
    fc1 = torch.tensor([[1.0, 0.04, 0.0, 0.5], [0.05, 0.0, 0.0, 0.01]])  # 0.05 x the max is drawn, 0.04 is not
    strengths = [torch.ones(3, 1), torch.ones(4, 3), fc1, torch.ones(10, 2)]
    assert study.fc1_pair_share(strengths, 0.05) == pytest.approx(100 * 3 / 8)
    assert study.fc1_pair_share(strengths, 0.0) == pytest.approx(100 * 5 / 8)
    assert study.fc1_pair_share(strengths, 0.6) == pytest.approx(100 / 8)


def test_cnn_modularity_is_modularity_with_null_of_the_drawn_graph():
    net = _cnn()
    res = study.cnn_modularity(net, 0.1, 3, 0)
    assert list(res) == ["rewired", "shuffled"]
    graph = bimt.kept_strengths(bimt.connection_strengths(net), 0.1)
    for null in study.NULLS:
        expected = bimt.modularity_with_null(graph, 3, 0, null)
        assert res[null]["q"] == expected["q"] and res[null]["null"] == expected["null"]


# --- 1. the BIMT MLP ---


def test_mlp_study_trains_caches_and_glues_its_history(fake_mnist, monkeypatch, toy_digits):
    root, _ = fake_mnist
    monkeypatch.setenv(DATA_ENV, str(root))
    x, y = toy_digits(100)
    cfg = study.Chapter3Config(mlp_steps=30)
    res = study.mlp_study(cfg, x, y, "cpu", progress=False)
    assert res.config == MLPConfig(steps=30) and res.accuracy == accuracy(res.model, x, y)
    assert list(root.glob("artifacts/bimt_mlp-*.pt"))
    again = study.mlp_study(cfg, x, y, "cpu", progress=False)  # from the cache
    assert again.history["seconds"] == res.history["seconds"]
    glue = res.glue_values()
    assert glue["mlp_steps"] == 30 and glue["mlp_step_share"] == pytest.approx(100 * 30 / 40_000)
    assert glue["mlp_swap_rounds"] == 30 // 200 == 0 and glue["mlp_swaps"] == 0
    assert glue["mlp_test_acc"] == 100 * res.accuracy
    assert glue["mlp_best_acc"] == 100 * max(res.history["eval_acc"])
    assert list(res.stages()) == ["step 0", "step 8", "step 15", "step 30"]  # MLPConfig.stages of 30 steps
    weights, labels = res.stages()["step 30"]
    assert [tuple(w.shape) for w in weights] == [(100, 784), (100, 100), (10, 100)] and labels.shape == (10,)
    assert [tuple(p.shape) for p in res.positions] == [(784, 2), (100, 2), (100, 2), (10, 2)]
    assert "30 steps (0 % of BIMT's 40 000), 0 swaps" in res.summary()


# --- 2. the MLP's modules ---


def _planted_mlp(faint: float = 0.03) -> study.MLPResult:
    """A 16-8-8-4 MLP of four separate modules (4 pixels -> 2 -> 2 -> 1 output slot), one faint cross weight per
    layer, and shuffled output labels: slot s computes digit LABELS[s]."""
    widths = (16, 8, 8, 4)
    model = bimt_mlp.GridMLP(widths)
    with torch.no_grad():
        for layer in model.layers:
            n_out, n_in = layer.weight.shape
            block = torch.block_diag(*[torch.ones(n_out // 4, n_in // 4)] * 4)
            layer.weight.copy_(block)
            layer.weight[0, -1] = faint
        model.out_labels.copy_(torch.tensor([2, 0, 3, 1]))
    config = MLPConfig(widths=widths, steps=10)
    return study.MLPResult(config, model, {}, 0.97, "cpu")


def test_mlp_modularity_study_finds_planted_modules_above_the_rewired_null():
    cfg = study.Chapter3Config(n_null=8)
    res = study.mlp_modularity_study(_planted_mlp(), cfg, thresholds=(0.02, 0.05))
    assert res.thresholds[0.05] is res.nulls["rewired"]  # the drawing threshold is not computed twice
    assert res.modular and res.nulls["rewired"]["margin"] > 0.1
    assert res.kept_mass[0.02] == pytest.approx(1.0)  # the faint weights (0.03 x the max) are drawn at 0.02 ...
    total = 4 * 8 + 4 * 4 + 4 * 2 + 3 * 0.03
    assert res.kept_mass[0.05] == pytest.approx((total - 3 * 0.03) / total)  # ... and not at 0.05
    assert res.inside == pytest.approx(1.0) and res.live == (8, 8) and res.hidden_widths == (8, 8)
    assert sorted(digits for _, digits in res.modules) == [[0], [1], [2], [3]]
    assert all(per_layer == [4, 2, 2, 1] for per_layer, _ in res.modules)
    census = res.census()
    assert list(census.columns) == ["input", "hidden 1", "hidden 2", "output", "digits"] and len(census) == 4
    glue = res.glue_values()
    assert glue["mlp_modules"] == glue["mlp_modules_with_digits"] == 4 and glue["mlp_modules_without_digits"] == 0
    assert glue["mlp_module_digits_max"] == 1 and glue["mlp_weights_total"] == 16 * 8 + 8 * 8 + 8 * 4
    assert glue["mlp_edges"] == 4 * 8 + 4 * 4 + 4 * 2 and glue["mlp_inside"] == pytest.approx(100.0)
    assert glue["mlp_min_margin"] == min(res.threshold_table()["margin"])
    assert glue["draw_threshold"] == 0.05 and glue["n_null"] == 8
    assert res.threshold_table().loc[0.02, "edges"] == glue["mlp_edges"] + 3
    assert "8 of 8 (hidden 1), 8 of 8 (hidden 2)" in res.summary()


def test_mlp_modularity_prose_check_fails_on_a_network_that_is_not_modular():
    res = study.mlp_modularity_study(_planted_mlp(), study.Chapter3Config(n_null=4), thresholds=(0.05,))
    res.mlp_accuracy = 0.5
    with pytest.raises(AssertionError, match="95 %"):
        res.check_prose()


# --- 3. the swap check ---


def test_swap_check_lowers_the_cost_and_leaves_the_network_alone():
    dense = _cnn(1)
    before = {k: v.clone() for k, v in dense.state_dict().items()}
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    res = study.swap_check(dense, BIMTConfig(), x)
    assert res.n_swaps >= 1 and res.cost_after < res.cost_before
    assert res.logit_change < 1e-4 and "< 1e-4" in res.summary()
    assert all(torch.equal(v, dense.state_dict()[k]) for k, v in before.items())
    lengths = bimt.model_lengths(dense)
    assert res.cost_before == pytest.approx(bimt.connection_cost(bimt.connection_strengths(dense), lengths, 1.0,
                                                                 0.1).item())


# --- 4.-8. the CNN sections, on synthetic digits (training replaced by a few steps on them) ---


@pytest.fixture
def cnn_world(monkeypatch, toy_digits):
    """Synthetic digits, a dense primary trained a little on them, and ``bimt.load_or_train_pruned`` replaced by
    ``train_pruned`` from that primary on the same digits (one run per config, like the artifact cache)."""
    x, y = toy_digits(512)
    dense = _cnn(0, PrimaryConfig())
    opt = torch.optim.Adam(dense.parameters(), lr=1e-2)
    dense.train()
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(dense(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    dense.eval()
    runs = {}

    def fake_load_or_train_pruned(config, device=None, progress=True):
        if config not in runs:
            runs[config] = bimt.train_pruned(config, x, y, x, y, init_state=dense.state_dict(), progress=False)
        return runs[config]

    monkeypatch.setattr(bimt, "load_or_train_pruned", fake_load_or_train_pruned)
    cfg = study.Chapter3Config(epochs=4.0, long_epochs=6.0, long_lam=1e-3, n_null=3)
    return cfg, dense, x, y, runs


def test_pruned_primary_study(cnn_world):
    cfg, dense, x, y, runs = cnn_world
    res = study.pruned_primary_study(cfg, dense, x, y, "cpu", progress=False)
    assert res.history["steps"] == 8 and list(runs) == [cfg.bimt_config]
    assert res.sparsity["hidden"] == pytest.approx(0.9, abs=1e-3) and res.masked_weights_are_zero()
    assert res.levels == [0.0, 0.5, 0.7, 0.8, 0.9] and res.one_shot[0] == res.dense_accuracy == accuracy(dense, x, y)
    glue = res.glue_values()
    assert glue["bimt_kept"] == res.n_kept and glue["bimt_hidden_weights"] == 32 * 8 * 25 + 64 * 32 * 16
    assert glue["bimt_params"] == count_parameters(dense) - (res.n_hidden - res.n_kept)
    assert glue["one_shot_acc_at_target"] == 100 * res.one_shot[4]
    assert glue["cnn_pairs_kept_fc1"] == study.fc1_pair_share(res.history["wiring"]["end"]["strength"], 0.05)
    assert glue["bimt_epochs"] == 4.0 and glue["bimt_lam"] == cfg.lam and glue["pruned_test_acc"] == 100 * res.accuracy
    curves = res.accuracy_curves()
    assert curves["frozen_step"] == 4 and curves["one_shot"] == (res.levels, res.one_shot)
    assert list(res.stages()) == ["start (step 0)", "middle (step 4)", "end (step 8)"]
    with torch.no_grad():
        res.model.fc1.weight[~res.masks["fc1.weight"]] = 1.0
    assert not res.masked_weights_are_zero()


def test_polysemanticity_study_counts_dead_neurons_and_compares_live_ones(cnn_world):
    cfg, dense, x, y, _ = cnn_world
    other = _cnn(3, PrimaryConfig())
    other.load_state_dict(dense.state_dict())
    with torch.no_grad():  # kill three fc1 units of the second network
        other.fc1.weight[:3] = 0.0
        other.fc1.bias[:3] = -1.0
    res = study.polysemanticity_study(cfg, dense, other, x, y)
    direct = bimt.compare_polysemanticity(bimt.polysemanticity(dense, x, y), bimt.polysemanticity(other, x, y))
    assert res.comparison == direct and res.verdict == direct["all"]["verdict"]
    n_dead = int((~res.stats["dense primary"]["fc1"]["alive"]).sum())
    assert res.dead["fc1"][1] - res.dead["fc1"][0] == 3 - int((~res.stats["dense primary"]["fc1"]["alive"][:3]).sum())
    assert res.dead["fc1"][0] == n_dead
    glue = res.glue_values()
    shift = abs(res.dead["fc1"][1] - res.dead["fc1"][0])
    assert glue["dead_change"] == ("barely changes" if shift <= 2 else f"changes by up to {shift} neurons per layer")
    assert glue["poly_all_classes_pruned"] == direct["all"]["classes"][1] and glue["response_fraction"] == 0.5
    live = res.live()
    assert len(live["pruned primary"]["fc1"]["n_classes"]) == direct["fc1"]["live"][1]
    table, fractions = res.table(), res.fraction_table()
    assert list(table.index) == ["conv2", "fc1", "all"] and table.loc["all", "verdict"] == res.verdict
    assert fractions.loc[0.5, "fc1: pruned"] == pytest.approx(direct["fc1"]["classes"][1])
    assert (fractions.diff().dropna() <= 0).all().all(), "a higher fraction never counts more classes"


def test_dead_change_wording_by_hand():
    means = torch.rand(6, 10) + 0.1
    alive = torch.ones(6, dtype=torch.bool)

    def stats(n_dead):
        a = alive.clone()
        a[:n_dead] = False
        layer = {"means": means, "n_classes": torch.ones(6, dtype=torch.long), "selectivity": torch.rand(6),
                 "alive": a}
        return {"conv2": layer, "fc1": layer}

    res = study.PolysemanticityResult(0.5, {"dense primary": stats(0), "pruned primary": stats(3)}, {})
    assert res.dead == {"conv2": (0, 3), "fc1": (0, 3)}
    glue = res.glue_values()
    assert glue["dead_change"] == "changes by up to 3 neurons per layer" and "part of the shift" in glue[
        "dead_conclusion"]
    res = study.PolysemanticityResult(0.5, {"dense primary": stats(1), "pruned primary": stats(3)}, {})
    assert res.glue_values()["dead_change"] == "barely changes"


def test_ladder_long_run_and_cnn_modularity(cnn_world):
    cfg, dense, x, y, runs = cnn_world
    pruned = study.pruned_primary_study(cfg, dense, x, y, "cpu", progress=False)
    poly = study.polysemanticity_study(cfg, dense, pruned.model, x, y)
    ladder = study.ladder_study(cfg, pruned, poly, x, y, "cpu", progress=False)
    assert list(ladder.networks) == ["dense primary", "fine-tuned", "wire cost only", "pruning only", "BIMT + pruning"]
    assert ladder.networks["BIMT + pruning"] is pruned.model and ladder.stats["dense primary"] is poly.stats[
        "dense primary"]
    assert len(runs) == 4  # the pruned primary is not trained twice
    assert ladder.sparsity["fine-tuned"] == 0.0 and ladder.sparsity["pruning only"] == pytest.approx(0.9, abs=1e-3)
    for name, (_, a, b) in study.EFFECTS.items():
        assert ladder.effects[name] == bimt.compare_polysemanticity(ladder.stats[a], ladder.stats[b])["all"]
    glue = ladder.glue_values()
    assert glue["ft_classes"] == glue["effect_ft_classes"] and glue["ft_sel"] == glue["effect_ft_sel"]
    assert glue["acc_pruning_only"] == 100 * accuracy(ladder.networks["pruning only"], x, y)
    assert len([k for k in glue if k.startswith("effect_")]) == 20
    assert list(ladder.effects_table().index) == list(study.EFFECTS)

    long = study.long_run_study(cfg, pruned, poly, x, y, "cpu", progress=False)
    assert long.config == cfg.long_config and long.history["steps"] == 12
    assert long.comparison == bimt.compare_polysemanticity(poly.stats["dense primary"],
                                                           bimt.polysemanticity(long.model, x, y))["all"]
    glue = long.glue_values()
    assert glue["long_pairs_fc1"] == study.fc1_pair_share(long.history["wiring"]["end"]["strength"], 0.05)
    assert glue["dense_live"] == poly.comparison["all"]["live"][0] and glue["long_lam"] == 1e-3
    assert long.pruned_accuracy == pruned.accuracy and long.pruned_fc1_share == pruned.fc1_share

    mlp = study.MLPModularityResult(0.05, 3, 0, 1.0, {"rewired": {"margin": 0.08}, "shuffled": {}}, {}, {}, (0, 0),
                                    (8, 8), [], 0.0)
    mod = study.cnn_modularity_study(cfg, mlp, ladder, long)
    assert list(mod.cnn) == list(ladder.networks) + [study.LONG_NAME]
    assert mod.cnn["pruning only"]["rewired"]["q"] == study.cnn_modularity(ladder.networks["pruning only"], 0.05,
                                                                           3, cfg.seed)["rewired"]["q"]
    assert list(mod.intervals())[0] == "BIMT MLP"
    glue = mod.glue_values()
    assert glue["cnn_max_margin"] == max(mod.margins.values())
    assert glue["cnn_margin_ratio"] == pytest.approx(100 * glue["cnn_max_margin"] / 0.08)
    assert glue["long_edges"] == mod.cnn[study.LONG_NAME]["rewired"]["edges"] and glue["q_long"] == mod.cnn[
        study.LONG_NAME]["rewired"]["q"]


def _null(margin):
    return {"rewired": {"margin": margin}, "shuffled": {"margin": -0.01}}


def test_cnn_margins_against_a_quarter_of_the_mlp_margin():
    cnn = {"dense primary": _null(0.0), study.LONG_NAME: _null(-0.02)}
    res = study.CNNModularityResult({"rewired": {"margin": 0.08}}, cnn)
    assert res.all_weak and res.margins == {"dense primary": 0.0, study.LONG_NAME: -0.02}
    res.check_prose()
    res = study.CNNModularityResult({"rewired": {"margin": 0.08}}, cnn | {"BIMT + pruning": _null(0.021)})
    assert not res.all_weak
    with pytest.raises(AssertionError, match="MLP's margin"):
        res.check_prose()


def test_config_names_the_parameter_out_of_range():
    with pytest.raises(ValueError, match="TARGET_SPARSITY=1.5 is out of range"):
        study.Chapter3Config(target_sparsity=1.5)
    with pytest.raises(ValueError, match="N_NULL=2.5 must be an integer"):
        study.Chapter3Config(n_null=2.5)
    assert set(study.PARAMETER_RANGES) == {f.name for f in dataclasses.fields(study.Chapter3Config)}


def test_check_lines_report_each_finding_of_the_run():
    swap = study.SwapCheck(n_swaps=3, cost_before=10.0, cost_after=9.0, logit_change=2e-5)
    assert swap.check_lines() == ("a swap round never raises the connection cost: True\n"
                                  "swaps leave every logit within 1e-4: True")
    swap.check()
    with pytest.raises(AssertionError, match="raise the connection cost"):
        study.SwapCheck(3, 10.0, 11.0, 0.0).check()
    with pytest.raises(AssertionError, match="moved a logit"):
        study.SwapCheck(3, 10.0, 9.0, 1e-3).check()
    mlp = study.MLPModularityResult(0.05, 3, 0, 0.94, {"rewired": {"margin": 0.08}, "shuffled": {}},
                                    {0.05: {"margin": 0.08}, 0.1: {"margin": -0.01}}, {}, (0, 0), (8, 8), [], 0.0)
    assert mlp.target_line().endswith("at least 95 %: False; modularity above the whole 95 % interval of the "
                                      "rewired null at every threshold: False")
    effects = {name: {"verdict": f"v{i}"} for i, name in enumerate(study.EFFECTS)}
    ladder = study.LadderResult({}, {}, {}, {}, effects)
    assert ladder.verdict_lines() == "\n".join(f"{n}: {effects[n]['verdict']}" for n in (
        "fine-tuning alone", "wire cost alone", "pruning on top of wire cost"))
    mod = study.CNNModularityResult({"rewired": {"margin": 0.08}},
                                    {"dense primary": _null(0.0), study.LONG_NAME: _null(0.01)})

    class Long:
        comparison = {"verdict": "more polysemantic"}

    assert mod.check_lines(mlp, Long()).splitlines() == [
        "BIMT MLP above the whole 95 % interval of its rewired null: False",
        "every CNN's margin over its rewired null below a quarter of the MLP's: True",
        "longer CNN run inside or below its rewired null: False",
        "longer CNN run vs dense primary: more polysemantic"]


def test_pruned_target_line_states_both_targets():
    class Run:
        sparsity, accuracy = {"hidden": 0.899}, 0.99

    assert study.PrunedResult.target_line(Run()) == ("pruned primary: hidden-layer sparsity at least 90 %: False, "
                                                     "test accuracy at least 98.5 %: True")

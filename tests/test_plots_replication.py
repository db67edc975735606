"""The claims-spread figure of chapter 8 reads every key it draws from the replication's stats."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from symbiote_lite import plots_replication as PR  # noqa: E402


def _stats(keys):
    return {k: {"values": [0.1 * i, 0.2 * i, 0.3 * i], "low": 0.0, "high": 0.5 * i} for i, k in enumerate(keys, 1)}


def test_claims_spread_draws_every_panel_with_its_intervals():
    keys = [key for groups in PR.CLAIM_PANELS.values() for key, _ in groups.values()]
    PR.claims_spread(_stats(keys), seeds=[1, 2, 3])
    fig = plt.gcf()
    assert len(fig.axes) == len(PR.CLAIM_PANELS)
    assert [ax.get_title() for ax in fig.axes] == list(PR.CLAIM_PANELS)
    plt.close(fig)


def test_claims_spread_names_a_missing_statistic():
    keys = [key for groups in PR.CLAIM_PANELS.values() for key, _ in groups.values()][1:]
    with pytest.raises(KeyError, match="planted_mono_auroc"):
        PR.claims_spread(_stats(keys))
    plt.close("all")


def test_claim_references_are_the_rules_thresholds_and_margins():
    refs = PR.claim_references()
    assert refs["planted circuits: AUROC"] == [(0.9, "0.9")]
    assert refs["compression: ρ half − ρ largest"] == [(0.0, "0"), (0.1, "margin 0.1")]

"""Scale-score summaries with a 95% band, and histogram bars that show no count below the threshold."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd

from helpers.core.cuts import find, load_all
from helpers.stats import distributions, tables
from helpers.synth.students import students_for_lea

from .conftest import DNCUSD, ROOT

TABLES = load_all(ROOT / "params")


def records(scores, grade=3, test=1, year=2022, indicator="Y") -> pd.DataFrame:
    return pd.DataFrame({"year": year, "test_id": test, "grade": grade, "include_indicator": indicator,
                         "scale_score": np.asarray(scores, float), "sex": "F"})


def test_summary_mean_sd_and_band():
    x = [2350, 2380, 2390, 2400, 2410, 2420, 2431, 2440, 2460, 2500, 2522]
    frame = pd.concat([records(x), records([np.nan] * 5, indicator="N")], ignore_index=True)
    row = distributions.summary(frame).iloc[0]
    sd = statistics.stdev(x)
    sem = sd / math.sqrt(11)
    assert row["n"] == 11 and not row["suppressed"]
    assert (row["mean"], row["sd"], row["sem_mean"]) == (round(statistics.mean(x), 1), round(sd, 1), round(sem, 2))
    assert row["band_low"] == round(statistics.mean(x) - 1.96 * sem, 1)
    assert row["band_high"] == round(statistics.mean(x) + 1.96 * sem, 1)


def test_small_groups_get_no_statistics_and_no_bars():
    frame = records([2350, 2380, 2390, 2400, 2410, 2420, 2431, 2440, 2460, 2500])
    row = distributions.summary(frame).iloc[0]
    assert row["n"] == 10 and row["suppressed"] and np.isnan(row["mean"]) and np.isnan(row["band_low"])
    assert distributions.bars(frame, TABLES).empty


def test_merge_small_bins():
    assert distributions.merge_small([0, 3, 12, 4, 0, 15], 11) == [(0, 4, 19), (5, 5, 15)]
    assert distributions.merge_small([2, 3], 11) == [(0, 1, 5)]  # a small level is one bar
    assert distributions.merge_small([0, 11, 0], 11) == [(0, 0, 0), (1, 1, 11), (2, 2, 0)]


def test_level_bins_tile_the_scale_and_start_at_each_cut():
    g = find(TABLES, 1, 2022).for_grade(3)
    bins = distributions.level_bins(g.loss, g.cuts, g.hoss, 20)
    assert bins[0][1] == 2115 and bins[-1][2] == 2650
    assert all(b[1] == a[2] + 1 for a, b in zip(bins, bins[1:]))
    starts = {b[1]: b[0] for b in bins}
    assert (starts[2367], starts[2432], starts[2490]) == (2, 3, 4)
    assert all(15 <= b[2] - b[1] + 1 <= 30 for b in bins)


def test_bars_on_del_norte_show_no_count_below_the_threshold(sample_store):
    s = students_for_lea(sample_store, DNCUSD, 2022, seed=0, tables=TABLES)
    bars = distributions.bars(s, TABLES, groups=(1, 160))
    shown = bars["count"].dropna()
    assert not shown.between(1, 10).any() and bars["suppressed"].sum() > 0
    levels = tables.computed_levels(s, groups=[1, 160])
    lea = levels[levels["cds"] == DNCUSD].set_index(distributions.KEYS)
    per_level = bars.groupby(distributions.KEYS + ["level"])
    for key, part in per_level:
        level_count = lea.loc[key[:4], f"count_level_{key[4]}"]
        if part["suppressed"].any():  # only a whole level of 1–10 students is hidden, as one bar
            assert len(part) == 1 and 1 <= level_count <= 10
        else:
            assert part["count"].sum() == level_count
    summary = distributions.summary(s, groups=(1, 160)).set_index(distributions.KEYS)
    assert set(bars.groupby(distributions.KEYS).groups) == set(summary.index[~summary["suppressed"]])
    for (test, grade), part in bars.groupby(["test_id", "grade"]):
        g = find(TABLES, test, 2022).for_grade(grade)
        lows = [g.loss, *g.cuts]
        highs = [c - 1 for c in g.cuts] + [g.hoss]
        assert all(lows[b.level - 1] <= b.low <= b.high <= highs[b.level - 1] for b in part.itertuples())
    ela3 = bars[(bars["test_id"] == 1) & (bars["grade"] == 3) & (bars["student_group_id"] == 1)]
    assert ela3["count"].sum() == 263 and not ela3["suppressed"].any()


def test_hidden_rows_have_no_bars(sample_store):
    s = students_for_lea(sample_store, DNCUSD, 2022, seed=0, tables=TABLES)
    hidden = pd.DataFrame({"year": [2022], "test_id": [1], "grade": [3], "student_group_id": [160],
                           "suppressed": [True]})
    bars = distributions.bars(s, TABLES, groups=(1, 160), hidden=hidden)
    keys = set(map(tuple, bars[distributions.KEYS].drop_duplicates().to_numpy().tolist()))
    assert (2022, 1, 3, 160) not in keys and (2022, 1, 3, 1) in keys and (2022, 1, 4, 160) in keys

"""Primary and complementary suppression (src/helpers/stats/suppress.py): hand-made tables with exact
expected masks, and properties over random additive tables (districts × schools × grades × groups)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers.stats import suppress as S

LEA = "01611190000000"
SCHOOLS = [f"0161119{k:07d}" for k in range(1, 7)]  # ascending CDS codes
GENDER = [[3, 4]]
PARTS = [[3, 4], [31, 111]]
LEVELS = 4


def make(rows: list[dict]) -> pd.DataFrame:
    """A levels-shaped frame; each dict gives the keys that differ and `ws` (students with scores)."""
    out = []
    for r in rows:
        ws = r["ws"]
        base = {"year": 2022, "cds": LEA, "lea_cds": LEA, "type_id": 6, "test_id": 1, "grade": 5,
                "student_group_id": 1}
        base.update({k: v for k, v in r.items() if k not in ("ws", "tested", "enrolled")})
        tested = r.get("tested", ws)
        levels = [ws // 4] * 3 + [ws - 3 * (ws // 4)] if ws is not None else [None] * 4
        out.append(base | {
            "enrolled": r.get("enrolled", tested), "tested": tested, "with_scores": ws,
            "mean_scale_score": 2400.0 + (ws or 0),
            **{f"count_level_{k + 1}": levels[k] for k in range(LEVELS)},
            **{f"pct_level_{k + 1}": (round(100 * levels[k] / ws, 2) if ws else None) for k in range(LEVELS)},
        })
    frame = pd.DataFrame(out)
    for col in ("enrolled", "tested", "with_scores", *[f"count_level_{k}" for k in range(1, LEVELS + 1)]):
        frame[col] = frame[col].astype("Int64")
    return frame


def hidden_keys(out: pd.DataFrame, cols=("cds", "grade", "student_group_id")) -> dict[tuple, str]:
    sup = out[out["suppressed"]]
    return {tuple(k): reason for k, reason in zip(sup[list(cols)].itertuples(index=False), sup["suppression"])}


# ---------------------------------------------------------------- hand-made examples


def test_one_of_two_gender_groups_takes_the_other_with_it():
    frame = make([{"student_group_id": 1, "ws": 40}, {"student_group_id": 3, "ws": 8},
                  {"student_group_id": 4, "ws": 32}])
    out = S.suppress(frame, GENDER)
    assert out["suppressed"].tolist() == [False, True, True]
    assert out["suppression"].tolist() == ["", "primary", "complementary"]
    assert out.loc[[1, 2], ["mean_scale_score", "pct_level_1", "count_level_4"]].isna().all().all()
    assert out.loc[0, "pct_level_4"] == frame.loc[0, "pct_level_4"]
    # 2021–22: counts of 4 or more are shown
    assert out["with_scores"].tolist() == [40, 8, 32]
    assert out["counts_hidden"].tolist() == ["", "", ""]
    # without the partition there is no relation, so Female stays published
    alone = S.suppress(frame, [])
    assert alone["suppressed"].tolist() == [False, True, False]


def test_a_suppressed_school_hides_the_smallest_other_school():
    frame = make([{"ws": 51}, {"cds": SCHOOLS[0], "type_id": 7, "ws": 6},
                  {"cds": SCHOOLS[1], "type_id": 7, "ws": 30}, {"cds": SCHOOLS[2], "type_id": 7, "ws": 15}])
    out = S.suppress(frame, [])
    assert hidden_keys(out) == {(SCHOOLS[0], 5, 1): "primary", (SCHOOLS[2], 5, 1): "complementary"}


def test_a_tie_between_schools_is_broken_by_the_cds_code_not_the_row_order():
    rows = [{"ws": 36}, {"cds": SCHOOLS[0], "type_id": 7, "ws": 6},
            {"cds": SCHOOLS[2], "type_id": 7, "ws": 15}, {"cds": SCHOOLS[1], "type_id": 7, "ws": 15}]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        out = S.suppress(make([rows[i] for i in order]), [])
        assert set(hidden_keys(out)) == {(SCHOOLS[0], 5, 1), (SCHOOLS[1], 5, 1)}


def test_a_charter_that_is_its_own_lea_is_not_a_school_of_the_district():
    charter = "01611190130229"
    frame = make([{"ws": 51}, {"cds": SCHOOLS[0], "type_id": 7, "ws": 6},
                  {"cds": SCHOOLS[1], "type_id": 7, "ws": 45},
                  {"cds": charter, "lea_cds": charter, "type_id": 9, "ws": 12}])
    out = S.suppress(frame, [])
    assert hidden_keys(out) == {(SCHOOLS[0], 5, 1): "primary", (SCHOOLS[1], 5, 1): "complementary"}


def test_a_locally_funded_charter_is_part_of_its_district_total():
    charter = "01611190130229"  # district 35 = school 30 + charter 5: the charter's 5 must not be 35 − 30
    frame = make([{"ws": 35}, {"cds": SCHOOLS[0], "type_id": 7, "ws": 30},
                  {"cds": charter, "lea_cds": charter, "type_id": 10, "ws": 5}])
    out = S.suppress(frame, [])
    assert hidden_keys(out) == {(charter, 5, 1): "primary", (SCHOOLS[0], 5, 1): "complementary"}


def test_nested_english_fluency_groups_are_protected():
    # 6 = 7 + 8 + 180 and 170 = 160 + 8: RFEP (8) hidden must not be 6 − 7 − 180, nor then 160 = 170 − 8
    frame = make([{"student_group_id": g, "ws": ws} for g, ws in
                  ((1, 90), (6, 70), (7, 20), (8, 5), (180, 45), (160, 20), (170, 25))])
    relations = [[6, 160], S.GroupRelation(6, (7, 8, 180)), S.GroupRelation(170, (160, 8))]
    out = S.suppress(frame, relations)
    hidden = {g for (_c, _g, g) in hidden_keys(out)}
    assert hidden == {8, 7, 160, 6}  # RFEP; then IFEP (smallest other part of 6); EL (of 170); 6 (of 1 = 6 + 160)
    assert S.load_partitions()[-1] == S.GroupRelation(144, (207, 227))


def test_a_chain_across_schools_and_grades_is_resolved():
    # school A grade 3 is small. Schools (grade 3): hide B3 (20 < 25). Grades (A): hide A4.
    # Next pass: grades (B) need B4; schools (grade 4) need the smallest of B4 (30), C4 (35): B4 too.
    sizes = {LEA: (50, 105), SCHOOLS[0]: (5, 40), SCHOOLS[1]: (20, 30), SCHOOLS[2]: (25, 35)}
    rows = []
    for cds, (g3, g4) in sizes.items():
        t = 6 if cds == LEA else 7
        rows += [{"cds": cds, "type_id": t, "grade": 3, "ws": g3}, {"cds": cds, "type_id": t, "grade": 4, "ws": g4},
                 {"cds": cds, "type_id": t, "grade": 13, "ws": g3 + g4}]
    out = S.suppress(make(rows), [])
    assert hidden_keys(out) == {(SCHOOLS[0], 3, 1): "primary", (SCHOOLS[1], 3, 1): "complementary",
                                (SCHOOLS[0], 4, 1): "complementary", (SCHOOLS[1], 4, 1): "complementary"}
    assert not out.loc[out["grade"] == 13, "suppressed"].any()


def test_science_all_grades_is_also_grades_5_and_8_plus_all_high_school():
    # 5 and 10 are small. 14 = 10+11+12 needs 11. Without the relation 13 = 5 + 8 + 14, grade 5 would be
    # 13 − 14 − 8 (all published): so 8 is hidden as well.
    sizes = {5: 7, 8: 30, 10: 6, 11: 45, 12: 50}
    rows = [{"test_id": 17, "grade": g, "ws": n} for g, n in sizes.items()]
    rows += [{"test_id": 17, "grade": 14, "ws": 101}, {"test_id": 17, "grade": 13, "ws": 138}]
    out = S.suppress(make(rows), [])
    assert {k[1]: r for k, r in hidden_keys(out).items()} == {
        5: "primary", 10: "primary", 8: "complementary", 11: "complementary"}


def test_a_suppressed_total_with_every_child_shown_hides_the_smallest_child():
    frame = make([{"ws": 75}, {"cds": SCHOOLS[0], "type_id": 7, "ws": 30},
                  {"cds": SCHOOLS[1], "type_id": 7, "ws": 20}, {"cds": SCHOOLS[2], "type_id": 7, "ws": 25}])
    frame["suppressed"] = [True, False, False, False]  # the research file starred the district
    frame["suppression"] = ["file", "", "", ""]
    out = S.suppress(frame, [])
    assert hidden_keys(out) == {(LEA, 5, 1): "file", (SCHOOLS[1], 5, 1): "complementary"}
    # the same through the lower-level API
    cons = S.constraints(frame, [])
    assert cons == [S.Constraint(0, (1, 2, 3))]
    added = S.complementary(frame, cons, primary_mask=pd.Series([True, False, False, False]))
    assert added.tolist() == [False, False, True, False]


def test_nothing_suppressed_changes_nothing():
    frame = make([{"student_group_id": 1, "ws": 40}, {"student_group_id": 3, "ws": 18},
                  {"student_group_id": 4, "ws": 22}, {"student_group_id": 4, "grade": 6, "ws": 0}])
    out = S.suppress(frame, GENDER)
    pd.testing.assert_frame_equal(out[frame.columns], frame)
    assert not out["suppressed"].any()
    assert (out["suppression"] == "").all() and (out["counts_hidden"] == "").all()


def test_each_year_uses_its_own_rule():
    # results: fewer than 11 with scores in both rules; counts: below 11 in 2017–18, below 4 in 2021–22
    rows = []
    for year, cds in ((2018, SCHOOLS[0]), (2022, SCHOOLS[1])):
        rows += [{"year": year, "cds": cds, "type_id": 7, "student_group_id": g, "ws": n}
                 for g, n in ((1, 40), (3, 8), (4, 32))]
    rows += [{"year": 2022, "cds": SCHOOLS[2], "type_id": 7, "student_group_id": g, "ws": n}
             for g, n in ((1, 20), (3, 3), (4, 17))]
    out = S.suppress(make(rows), GENDER)
    assert out["suppression"].tolist() == ["", "primary", "complementary"] * 3
    all3 = "enrolled|tested|with_scores"
    assert out["counts_hidden"].tolist() == ["", all3, all3, "", "", "", "", all3, all3]
    assert out["tested"].isna().tolist() == [False, True, True, False, False, False, False, True, True]
    assert out["with_scores"].tolist()[3:6] == [40, 8, 32]


def test_a_hidden_tested_count_is_not_pinned_between_enrolled_and_with_scores():
    # Male: 3 tested, none with scores. Female's tested count (37) is the complement of Male's; with
    # Female's enrolled = with scores = 37 shown it would be 37 all the same, and Male's 40 − 37. So a
    # row whose tested count is hidden hides its number with scores too (Male's 0 as well: otherwise
    # Female's would be All Students' 37 − 0), and with it its results.
    frame = make([{"student_group_id": 1, "enrolled": 42, "tested": 40, "ws": 37},
                  {"student_group_id": 3, "enrolled": 5, "tested": 3, "ws": 0},
                  {"student_group_id": 4, "enrolled": 37, "tested": 37, "ws": 37}])
    out = S.suppress(frame, GENDER)
    assert out["counts_hidden"].tolist() == ["", "tested|with_scores", "tested|with_scores"]
    assert out["enrolled"].tolist() == [42, 5, 37]
    assert out["suppressed"].tolist() == [False, True, True]
    assert out["suppression"].tolist() == ["", "complementary", "complementary"]


def test_a_year_without_a_rule_is_an_error():
    with pytest.raises(KeyError, match="2020"):
        S.primary(make([{"year": 2020, "ws": 5}]))


def test_primary_rule():
    frame = make([{"ws": n} for n in (0, 1, 10, 11, 250)] + [{"ws": None}])
    assert S.primary(frame).tolist() == [False, True, True, False, False, True]
    assert S.count_primary(frame, "tested").tolist() == [False, True, False, False, False, True]


def test_constraints_of_each_kind():
    rows = [{"cds": LEA, "grade": 5, "ws": 30},
            {"cds": SCHOOLS[0], "type_id": 7, "grade": 5, "ws": 20},
            {"cds": SCHOOLS[1], "type_id": 7, "grade": 5, "ws": 10},
            {"cds": SCHOOLS[2], "lea_cds": "01611270000000", "type_id": 7, "grade": 5, "ws": 10},  # other LEA
            {"cds": SCHOOLS[0], "type_id": 7, "grade": 6, "ws": 15},
            {"cds": SCHOOLS[0], "type_id": 7, "grade": 13, "ws": 35},
            {"cds": SCHOOLS[0], "type_id": 7, "grade": 13, "student_group_id": 4, "ws": 35},
            {"cds": SCHOOLS[0], "type_id": 7, "grade": 13, "student_group_id": 31, "ws": 12}]
    frame = make(rows)
    got = {(c.total, frozenset(c.children)) for c in S.constraints(frame, [[3, 4], [31, 111]])}
    assert got == {(0, frozenset({1, 2})),  # LEA grade 5 = its two schools
                   (5, frozenset({1, 4})),  # school 1: All Grades = grades 5 + 6
                   (5, frozenset({6})),  # Male missing: All Students = Female
                   (5, frozenset({7}))}
    assert S.load_partitions()[:2] == ((3, 4), (31, 111))


def test_complementary_accepts_an_incidence_and_adds_only():
    frame = make([{"student_group_id": 1, "ws": 40}, {"student_group_id": 3, "ws": 8},
                  {"student_group_id": 4, "ws": 32}])
    inc = S.incidence(frame, GENDER)
    assert S.complementary(frame, inc).tolist() == [False, False, True]
    assert S.complementary(frame, inc, primary_mask=np.array([True, True, True])).tolist() == [False] * 3


# ---------------------------------------------------------------- properties over random tables

# leaves: sex (M, F) × economic status (SED, not) × English fluency (IFEP, RFEP, EO, EL) = 16
LEAVES = [(sex, sed, el) for sex in "MF" for sed in (True, False) for el in ("IFEP", "RFEP", "EO", "EL")]
MEMBERS = {1: lambda s, d, e: True, 3: lambda s, d, e: s == "M", 4: lambda s, d, e: s == "F",
           31: lambda s, d, e: d, 111: lambda s, d, e: not d, 6: lambda s, d, e: e != "EL",
           7: lambda s, d, e: e == "IFEP", 8: lambda s, d, e: e == "RFEP", 180: lambda s, d, e: e == "EO",
           160: lambda s, d, e: e == "EL", 170: lambda s, d, e: e in ("EL", "RFEP")}
GROUPS = {g: tuple(i for i, leaf in enumerate(LEAVES) if member(*leaf)) for g, member in MEMBERS.items()}
# the relations the test knows, written from the group definitions above (a total and its parts)
GROUP_SUMS = [(1, [3, 4]), (1, [31, 111]), (1, [6, 160]), (6, [7, 8, 180]), (170, [160, 8])]
PARTS = [[3, 4], [31, 111], [6, 160, 190], S.GroupRelation(6, (7, 8, 180)), S.GroupRelation(170, (160, 8))]
COUNTS = ("enrolled", "tested", "with_scores")


@st.composite
def tables(draw):
    """Random additive tables: 1–2 districts of 1–6 schools, some of them locally funded charters (type 10,
    part of their district's total though reported as their own LEA); grades; groups from (sex × economic
    status × English fluency) leaves, nested groups included."""
    year = draw(st.sampled_from([2018, 2022]))
    n_schools = draw(st.lists(st.integers(1, 6), min_size=1, max_size=2))
    grades = sorted(draw(st.lists(st.sampled_from([3, 4, 5, 6, 7, 8, 11]), min_size=1, max_size=3, unique=True)))
    total = sum(n_schools)
    charter = draw(st.lists(st.booleans(), min_size=total, max_size=total))
    small = st.sampled_from([0, 0, 0, 1, 1, 2, 3, 4, 6])
    levels = draw(hnp.arrays(np.int64, (total, len(grades), len(LEAVES), LEVELS), elements=small))
    extra = draw(hnp.arrays(np.int64, (total, len(grades), len(LEAVES), 2),
                            elements=st.sampled_from([0, 0, 0, 0, 1, 2])))
    drop_zero = draw(st.booleans())  # CAASPP files have no row for a group with nobody enrolled
    rows, school = [], 0
    for d, n in enumerate(n_schools):
        lea = f"01{61119 + d:05d}0000000"
        own = slice(school, school + n)
        entities = [(lea, lea, 6, levels[own].sum(axis=0), extra[own].sum(axis=0))]
        for k in range(n):
            cds = f"{lea[:7]}{k + 1:07d}"
            is_charter = charter[school + k]
            entities.append((cds, cds if is_charter else lea, 10 if is_charter else 7, levels[school + k],
                             extra[school + k]))
        school += n
        for cds, lea_cds, type_id, lv, ex in entities:
            for gi, grade in [(i, g) for i, g in enumerate(grades)] + [(None, 13)]:
                lvg = lv.sum(axis=0) if gi is None else lv[gi]  # (leaf, level)
                exg = ex.sum(axis=0) if gi is None else ex[gi]
                for group, leaves in GROUPS.items():
                    cl = lvg[list(leaves)].sum(axis=0)
                    ws = int(cl.sum())
                    tested = ws + int(exg[list(leaves), 0].sum())
                    enrolled = tested + int(exg[list(leaves), 1].sum())
                    if drop_zero and enrolled == 0 and group != 1:
                        continue
                    rows.append({"year": year, "cds": cds, "lea_cds": lea_cds, "type_id": type_id, "test_id": 2,
                                 "grade": grade, "student_group_id": group, "enrolled": enrolled, "tested": tested,
                                 "with_scores": ws, "mean_scale_score": 2400.0 + ws,
                                 **{f"count_level_{k + 1}": int(cl[k]) for k in range(LEVELS)},
                                 **{f"pct_level_{k + 1}": round(100 * cl[k] / ws, 2) if ws else np.nan
                                    for k in range(LEVELS)}})
    frame = pd.DataFrame(rows)
    for col in (*COUNTS, *[f"count_level_{k}" for k in range(1, LEVELS + 1)]):
        frame[col] = frame[col].astype("Int64")
    return frame


def relations(frame: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """The additive relations, from the generator's structure (independently of the module): a district is
    the sum of every school code in it, whatever its type; All Grades of its grades; each group sum."""
    idx = {k: i for i, k in enumerate(zip(frame["cds"], frame["grade"], frame["student_group_id"]))}
    out = []
    for (cds, grade, group), i in idx.items():
        if cds.endswith("0000000"):  # district = its schools and locally funded charters
            kids = [j for (c, g, s), j in idx.items() if c != cds and c[:7] == cds[:7] and g == grade and s == group]
            out.append((i, kids))
        if grade == 13:
            out.append((i, [j for (c, g, s), j in idx.items() if c == cds and g < 13 and s == group]))
        for total, parts in GROUP_SUMS:
            if group == total:
                out.append((i, [idx[(cds, grade, s)] for s in parts if (cds, grade, s) in idx]))
    return [(t, kids) for t, kids in out if kids]


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tables())
def test_no_relation_has_exactly_one_hidden_cell(frame):
    out = S.suppress(frame, PARTS)
    masks = {"results": out["suppressed"].to_numpy()}
    masks |= {c: out["counts_hidden"].str.split("|").apply(lambda cs, c=c: c in cs).to_numpy() for c in COUNTS}
    for name, mask in masks.items():
        for total, kids in relations(frame):
            n = int(mask[[total, *kids]].sum())
            assert n != 1, (name, frame.iloc[[total, *kids]])


@FAST
@given(tables())
def test_every_small_cell_is_hidden(frame):
    out = S.suppress(frame, PARTS)
    ws = frame["with_scores"]
    assert out.loc[(ws > 0) & (ws < 11), "suppressed"].all()
    assert out.loc[out["suppressed"], ["mean_scale_score", "pct_level_1", "count_level_1"]].isna().all().all()
    assert not out.loc[~out["suppressed"] & (ws > 0), "pct_level_1"].isna().any()
    # a percentage without its denominator would betray it: a hidden number with scores hides the results
    assert out.loc[out["with_scores"].isna(), "suppressed"].all()
    min_count = 11 if frame["year"].iloc[0] == 2018 else 4
    for col in COUNTS:
        small = (frame[col] > 0) & (frame[col] < min_count)
        assert out.loc[small, col].isna().all()
        assert out.loc[small, "counts_hidden"].str.contains(col).all()
        # a zero is shown, unless it is the number with scores of a row whose tested count is hidden
        zero = (frame[col] == 0).to_numpy(dtype=bool)
        if col == "with_scores":
            zero &= out["tested"].notna().to_numpy()
        assert (out.loc[zero, col].astype("Float64").fillna(-1) == 0).all()


@FAST
@given(tables())
def test_no_hidden_value_can_be_recomputed_from_published_ones(frame):
    out = S.suppress(frame, PARTS)
    leaks = []
    for col in (*COUNTS, *[f"count_level_{k}" for k in range(1, LEVELS + 1)]):
        shown = out[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        truth = frame[col].to_numpy(dtype=float)
        for total, kids in relations(frame):
            cells = [total, *kids]
            missing = [c for c in cells if np.isnan(shown[c])]
            if len(missing) != 1:
                continue
            (cell,) = missing
            if cell == total:
                guess = sum(shown[k] for k in kids)
            else:
                guess = shown[total] - sum(shown[k] for k in kids if k != cell)
            if guess == truth[cell]:
                leaks.append((col, frame.iloc[cell][["cds", "grade", "student_group_id"]].tolist(), guess))
    # with scores ≤ tested ≤ enrolled: a hidden tested count must not sit between two equal shown ones
    shown = {c: out[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan) for c in COUNTS}
    pinned = np.isnan(shown["tested"]) & (shown["enrolled"] == shown["with_scores"])
    leaks += [("tested", i) for i in np.flatnonzero(pinned)]
    assert not leaks


@FAST
@given(tables())
def test_suppressing_twice_changes_nothing(frame):
    once = S.suppress(frame, PARTS)
    pd.testing.assert_frame_equal(S.suppress(once, PARTS), once)


@FAST
@given(tables(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_row_order(frame, rnd):
    order = list(range(len(frame)))
    rnd.shuffle(order)
    keys = ["cds", "grade", "student_group_id"]

    def hidden(out):
        return {(*k, c) for k, s, c in zip(out[keys].itertuples(index=False), out["suppressed"], out["counts_hidden"])
                if s or c}

    assert hidden(S.suppress(frame.iloc[order], PARTS)) == hidden(S.suppress(frame, PARTS))


# ---------------------------------------------------------------- policies; counties and the state


def test_the_published_policy_hides_only_the_file_and_the_rule():
    # Male 8 (primary) would take Female with it under the complementary policy; as published, Female stays
    frame = make([{"student_group_id": 1, "ws": 40}, {"student_group_id": 3, "ws": 8},
                  {"student_group_id": 4, "ws": 32}, {"student_group_id": 31, "ws": 20}])
    frame["suppressed"] = [False, False, False, True]  # the file starred group 31
    frame["suppression"] = ["", "", "", "file"]
    out = S.suppress(frame, GENDER, policy=S.PUBLISHED)
    assert out["suppression"].tolist() == ["", "primary", "", "file"]
    assert out.loc[2, "mean_scale_score"] == 2432.0 and out.loc[2, "pct_level_4"] == frame.loc[2, "pct_level_4"]
    assert out["suppression_policy"].tolist() == ["published"] * 4
    assert S.suppress(frame, GENDER)["suppression"].tolist() == ["", "primary", "complementary", "file"]


def test_the_published_policy_refuses_computed_rows():
    frame = make([{"ws": 40}]).assign(source="computed")
    with pytest.raises(ValueError, match="computed numbers need complementary"):
        S.suppress(frame, [], policy=S.PUBLISHED)
    with pytest.raises(ValueError, match="unknown suppression policy"):
        S.suppress(frame, [], policy="none")


def test_a_county_office_is_not_its_county_minus_its_district():
    # county 50 = district 40 + county office 10 (one grade, All Students): the office's 10 hides another LEA
    county, coe, district = "08000000000000", "08100820000000", "08618200000000"
    frame = make([{"cds": county, "lea_cds": None, "type_id": 5, "ws": 50},
                  {"cds": coe, "lea_cds": coe, "ws": 10}, {"cds": district, "lea_cds": district, "ws": 40},
                  {"cds": "0" * 14, "lea_cds": None, "type_id": 4, "ws": 50}])
    out = S.suppress(frame, [])
    assert hidden_keys(out) == {(coe, 5, 1): "primary", (district, 5, 1): "complementary"}
    assert {(c.total, frozenset(c.children)) for c in S.constraints(frame, [])} == {
        (0, frozenset({1, 2})), (3, frozenset({0}))}


def test_the_state_is_the_sum_of_its_counties():
    frame = make([{"cds": "0" * 14, "lea_cds": None, "type_id": 4, "ws": 45},
                  {"cds": "01000000000000", "lea_cds": None, "type_id": 5, "ws": 5},
                  {"cds": "08000000000000", "lea_cds": None, "type_id": 5, "ws": 40}])
    out = S.suppress(frame, [])
    assert out["suppression"].tolist() == ["", "primary", "complementary"]  # the other county, not the state
    assert S.suppress(frame, [], policy=S.PUBLISHED)["suppression"].tolist() == ["", "primary", ""]


SEXES = {1: (0, 1), 3: (0,), 4: (1,)}  # All Students = Male + Female


def unit_rows(cds: str, lea_cds: str | None, type_id: int, lv: np.ndarray, ex: np.ndarray, grades: list[int],
              year: int) -> list[dict]:
    """An entity's rows from its counts (grade, sex, level) and extra tested/enrolled (grade, sex, 2)."""
    rows = []
    for gi, grade in [(i, g) for i, g in enumerate(grades)] + [(None, 13)]:
        lvg = lv.sum(axis=0) if gi is None else lv[gi]
        exg = ex.sum(axis=0) if gi is None else ex[gi]
        for group, sexes in SEXES.items():
            cl = lvg[list(sexes)].sum(axis=0)
            ws = int(cl.sum())
            tested = ws + int(exg[list(sexes), 0].sum())
            rows.append({"year": year, "cds": cds, "lea_cds": lea_cds, "type_id": type_id, "test_id": 1,
                         "grade": grade, "student_group_id": group, "enrolled": tested + int(exg[list(sexes), 1].sum()),
                         "tested": tested, "with_scores": ws, "mean_scale_score": 2400.0 + ws,
                         **{f"count_level_{k + 1}": int(cl[k]) for k in range(LEVELS)},
                         **{f"pct_level_{k + 1}": round(100 * cl[k] / ws, 2) if ws else np.nan for k in range(LEVELS)}})
    return rows


@st.composite
def state_tables(draw):
    """A state of 1–2 counties, each of 1–3 LEAs: districts (their county office among them) of 1–3 schools,
    some of them locally funded charters, and direct-funded charters (type 9) carrying a district's code."""
    year = draw(st.sampled_from([2018, 2022]))
    grades = sorted(draw(st.lists(st.sampled_from([3, 4, 5]), min_size=1, max_size=2, unique=True)))
    small = st.sampled_from([0, 0, 1, 1, 2, 3, 5, 8])

    def counts(shape):
        return draw(hnp.arrays(np.int64, shape, elements=small))

    rows, counties = [], []
    for c in range(draw(st.integers(1, 2))):
        cc = f"{c + 1:02d}"
        county_lv, county_ex = 0, 0
        leas = draw(st.lists(st.tuples(st.sampled_from([6, 6, 9]), st.integers(1, 3)), min_size=1, max_size=3))
        for li, (kind, n) in enumerate(leas):
            district = f"{cc}{10000 + li:05d}0000000"
            if kind == 9:  # one unit, its own LEA, with the code of the county's first district
                cds = f"{cc}10000{9000000 + li:07d}"
                lv, ex = counts((len(grades), 2, LEVELS)), counts((len(grades), 2, 2))
                rows += unit_rows(cds, cds, 9, lv, ex, grades, year)
            else:
                lv = counts((n, len(grades), 2, LEVELS))
                ex = counts((n, len(grades), 2, 2))
                for k in range(n):
                    cds = f"{district[:7]}{k + 1:07d}"
                    local = draw(st.booleans())
                    rows += unit_rows(cds, cds if local else district, 10 if local else 7, lv[k], ex[k], grades, year)
                lv, ex = lv.sum(axis=0), ex.sum(axis=0)
                rows += unit_rows(district, district, 6, lv, ex, grades, year)
            county_lv, county_ex = county_lv + lv, county_ex + ex
        rows += unit_rows(f"{cc}{'0' * 12}", None, 5, county_lv, county_ex, grades, year)
        counties.append((county_lv, county_ex))
    rows += unit_rows("0" * 14, None, 4, sum(c[0] for c in counties), sum(c[1] for c in counties), grades, year)
    frame = pd.DataFrame(rows)
    for col in (*COUNTS, *[f"count_level_{k}" for k in range(1, LEVELS + 1)]):
        frame[col] = frame[col].astype("Int64")
    return frame


def state_relations(frame: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """Written from the generator (not the module): a district = its schools and locally funded charters
    (same 7-digit code, types 7 and 10); a county = its districts and direct-funded charters (same county
    code, types 6 and 9); the state = the counties; All Grades = the grades; All Students = Male + Female."""
    typ = dict(zip(frame["cds"], frame["type_id"]))
    idx = {k: i for i, k in enumerate(zip(frame["cds"], frame["grade"], frame["student_group_id"]))}
    members = {6: lambda c, d: c != d and c[:7] == d[:7] and typ[c] in (7, 10),
               5: lambda c, d: c[:2] == d[:2] and typ[c] in (6, 9), 4: lambda c, d: typ[c] == 5}
    out = []
    for (cds, grade, group), i in idx.items():
        if typ[cds] in members:
            out.append((i, [j for (c, g, s), j in idx.items() if g == grade and s == group and members[typ[cds]](c, cds)]))
        if grade == 13:
            out.append((i, [j for (c, g, s), j in idx.items() if c == cds and g < 13 and s == group]))
        if group == 1:
            out.append((i, [idx[(cds, grade, s)] for s in (3, 4)]))
    return [(t, kids) for t, kids in out if kids]


@FAST
@given(state_tables())
def test_complementary_keeps_its_promise_across_counties_and_the_state(frame):
    out = S.suppress(frame, [[3, 4]])
    hidden = {"results": out["suppressed"].to_numpy()}
    hidden |= {c: out["counts_hidden"].str.split("|").apply(lambda cs, c=c: c in cs).to_numpy() for c in COUNTS}
    rels = state_relations(frame)
    for name, mask in hidden.items():
        assert all(int(mask[[t, *kids]].sum()) != 1 for t, kids in rels), name
    leaks = []
    for col in (*COUNTS, *[f"count_level_{k}" for k in range(1, LEVELS + 1)]):
        shown = out[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        truth = frame[col].to_numpy(dtype=float)
        for total, kids in rels:
            missing = [c for c in (total, *kids) if np.isnan(shown[c])]
            if len(missing) == 1:
                (cell,) = missing
                guess = sum(shown[k] for k in kids) if cell == total else \
                    shown[total] - sum(shown[k] for k in kids if k != cell)
                leaks += [(col, cell, guess)] if guess == truth[cell] else []
    assert not leaks


@FAST
@given(state_tables())
def test_the_published_policy_changes_only_what_the_rule_hides(frame):
    out = S.suppress(frame, [[3, 4]], policy=S.PUBLISHED)
    rule = ((frame["with_scores"] > 0) & (frame["with_scores"] < 11)).to_numpy(dtype=bool)
    assert (out["suppressed"].to_numpy() == rule).all()
    kept = ~rule
    for col in ("mean_scale_score", "pct_level_1", "count_level_4"):
        pd.testing.assert_series_equal(out.loc[kept, col], frame.loc[kept, col])
    min_count = 11 if frame["year"].iloc[0] == 2018 else 4
    for col in COUNTS:
        small = ((frame[col] > 0) & (frame[col] < min_count)).to_numpy(dtype=bool)
        assert out[col].isna().to_numpy().tolist() == small.tolist()

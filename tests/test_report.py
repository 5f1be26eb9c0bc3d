"""The report's aggregation and table on hand-made rows with known answers."""

import numpy as np

from fbjax.eval.report import aggregate, markdown_table

ROWS = [
    {"seed": 0, "task": "a", "method": "fb", "returns": [1.0, 3.0], "discounted": [0.5, 1.5],
     "ope_ratio": 2.0, "ope_fb_value": 4.0},
    {"seed": 1, "task": "a", "method": "fb", "returns": [5.0, 7.0], "discounted": [2.5, 3.5],
     "ope_ratio": 4.0, "ope_fb_value": 0.0},
    {"seed": 0, "task": "a", "method": "td3", "returns": [8.0, 8.0], "discounted": [4.0, 4.0]},
    {"seed": 1, "task": "a", "method": "td3", "returns": [8.0, 8.0], "discounted": [4.0, 4.0]},
    {"seed": 0, "task": "b", "method": "fb", "returns": [0.0, 0.2], "discounted": [0.0, 0.1],
     "ope_ratio": 0.0, "ope_fb_value": 0.0},
    {"seed": 0, "task": "b", "method": "td3", "returns": [0.5, 0.5], "discounted": [0.2, 0.2]},
]


def test_aggregate_pools_episodes_over_seeds_and_averages_estimates():
    summary = aggregate(ROWS)
    fb = summary[("a", "fb")]
    assert fb["episodes"] == 4 and fb["seeds"] == [0, 1]
    assert fb["return"]["mean"] == 4.0
    # 95% half-width: 1.96 * sample std / sqrt(n); returns 1, 3, 5, 7 have std sqrt(20/3).
    np.testing.assert_allclose(fb["return"]["ci95"], 1.96 * np.sqrt(20 / 3) / 2)
    assert fb["discounted"]["mean"] == 2.0
    assert fb["ope_ratio"] == 3.0 and fb["ope_fb_value"] == 2.0
    assert summary[("a", "td3")]["return"] == {"mean": 8.0, "ci95": 0.0}
    assert "ope_ratio" not in summary[("a", "td3")]


def test_table_shows_percent_of_oracle_only_where_the_oracle_earns_enough():
    table = markdown_table(aggregate(ROWS), "note")
    row_a = next(line for line in table.splitlines() if line.startswith("| a |"))
    row_b = next(line for line in table.splitlines() if line.startswith("| b |"))
    assert row_a.endswith(" 50% |")  # 4 / 8
    assert row_b.endswith(" no oracle |")  # oracle 0.5 < 1: no ratio of near-zero returns
    assert "| a | fb | 2.00 | 3.00 | 2.00 |" in table
    assert table.rstrip().endswith("note")


def test_table_without_fb_has_no_percent_column():
    rows = [r for r in ROWS if r["method"] == "td3"]
    table = markdown_table(aggregate(rows), "note")
    assert "| task | td3 |" in table and "% of oracle |" not in table
    assert all(line.count("|") == 3 for line in table.splitlines() if line.startswith("| a"))


def test_an_oracle_that_does_not_beat_random_is_no_oracle():
    rows = ROWS + [
        {"seed": 0, "task": "a", "method": "random", "returns": [6.0, 9.0], "discounted": [1, 1]}]
    table = markdown_table(aggregate(rows), "note")
    row_a = next(line for line in table.splitlines() if line.startswith("| a |"))
    # td3 8 ± 0 against random 7.5 ± 2.9: the CIs overlap, so fb / td3 is not shown.
    assert row_a.endswith(" no oracle |")

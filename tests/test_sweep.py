"""The sweep binary's parsing and config overrides."""

import pytest

from fbjax.pipeline.sweep import combinations, parse, with_values


def test_parse_and_combinations():
    fields = parse(["eval.zol.lr=1e-4, 3e-4", "eval.zol.transform=exp,linear"])
    assert fields == [("eval.zol.lr", [1e-4, 3e-4]), ("eval.zol.transform", ["exp", "linear"])]
    combos = combinations(fields)
    assert len(combos) == 4 and combos[1] == {"eval.zol.lr": 1e-4, "eval.zol.transform": "linear"}
    with pytest.raises(ValueError, match="FIELD=V1,V2"):
        parse(["eval.zol.lr"])


def test_with_values_names_a_missing_field():
    base = {"eval": {"zol": {"lr": 1.0}}, "seed": 0}
    assert with_values(base, {"eval.zol.lr": 2.0})["eval"]["zol"]["lr"] == 2.0
    assert base["eval"]["zol"]["lr"] == 1.0  # the base is not changed
    with pytest.raises(ValueError, match="no field 'learning_rate'"):
        with_values(base, {"eval.zol.learning_rate": 2.0})
    with pytest.raises(ValueError, match="no section 'zoll'"):
        with_values(base, {"eval.zoll.lr": 2.0})

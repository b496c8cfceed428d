"""Preprocessing from column types: NaN, categoricals, bool, datetime, ids, text, unseen categories."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaconf.errors import UsageError
from metaconf.targets.preprocess import (
    build_preprocessor,
    describe_preprocessor,
    plan_columns,
    scale_gamma,
)


def mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.normal(40, 10, n).round(),
            "income": np.where(rng.random(n) < 0.2, np.nan, rng.normal(5e4, 1e4, n)),
            "color": rng.choice(np.array(["red", "green", None], dtype=object), n),
            "member": rng.random(n) < 0.5,
            "signup": pd.date_range("2020-01-01", periods=n, freq="7D"),
            "last_seen": [f"2021-0{1 + i % 9}-1{i % 9}" for i in range(n)],
            "comment": [
                f"customer number {i} wrote a rather long comment about the service" for i in range(n)
            ],
            "code": [f"C{i:05d}" for i in range(n)],
            "country": "DE",
            "score_text": [str(i % 7) if i % 10 else "?" for i in range(n)],
            "city": rng.choice(np.array([f"city{i}" for i in range(15)], dtype=object), n),
        }
    )


def test_plan_decides_each_column_and_says_why():
    plan = plan_columns(mixed_frame())
    kinds = {c.name: c.kind for c in plan.columns}
    assert kinds == {
        "customer_id": "dropped",
        "age": "numeric",
        "income": "numeric",
        "color": "categorical",
        "member": "categorical",
        "signup": "datetime",
        "last_seen": "datetime",
        "comment": "dropped",
        "code": "dropped",
        "country": "dropped",
        "score_text": "numeric",
        "city": "high_cardinality",
    }
    assert "id-like" in plan.dropped["customer_id"]
    assert "id-like" in plan.dropped["code"]
    assert "free text" in plan.dropped["comment"]
    assert "constant" in plan.dropped["country"]
    lines = describe_preprocessor(mixed_frame())
    assert lines[0].startswith("customer_id: dropped (id-like")
    assert len(lines) == 12


def test_fit_transform_is_dense_finite_and_named():
    X = mixed_frame()
    pre = build_preprocessor(X, scale=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas / sklearn warnings on ordinary data
        Z = pre.fit_transform(X)
    assert isinstance(Z, np.ndarray) and Z.dtype == float
    assert np.isfinite(Z).all()
    names = list(pre.get_feature_names_out())
    assert len(names) == Z.shape[1]
    assert "numeric__missingindicator_income" in names  # the gaps stay visible to the model
    assert {"datetime__signup_year", "datetime__signup_dayofweek"} <= set(names)
    assert not any("customer_id" in n or "comment" in n or "code" in n for n in names)


def test_unseen_categories_and_new_gaps_at_test_time():
    X = mixed_frame()
    pre = build_preprocessor(X, scale=False).fit(X)
    test = X.head(3).copy()
    test["color"] = ["purple", None, "red"]
    test["city"] = ["atlantis", "atlantis", "city1"]
    test["age"] = [np.nan, 30.0, np.inf]
    test["member"] = [True, False, True]
    Z = pre.transform(test)
    names = list(pre.get_feature_names_out())
    assert np.isfinite(Z).all()
    color = [i for i, n in enumerate(names) if n.startswith("categorical__color_")]
    assert Z[0, color].tolist() == [0.0] * len(color)  # unseen low-cardinality category: all zeros
    infrequent = names.index("high_cardinality__city_infrequent_sklearn")
    assert Z[0, infrequent] == 1.0  # unseen high-cardinality category: the infrequent column
    age = names.index("numeric__age")
    assert Z[0, age] == Z[2, age] == np.nanmedian(X["age"])  # NaN and inf imputed with the training median


def test_huge_numbers_stay_finite_after_scaling():
    X = pd.DataFrame({"x": [0.0, 3.4e170, 1.0, -1e300, 2.0, np.nan]})
    Z = build_preprocessor(X, scale=True).fit_transform(X)
    assert np.isfinite(Z).all()


def test_scaling_only_when_asked():
    X = mixed_frame()
    names_scaled = build_preprocessor(X, scale=True).fit(X)
    Z = names_scaled.transform(X)
    age = list(names_scaled.get_feature_names_out()).index("numeric__age")
    assert Z[:, age].mean() == pytest.approx(0.0, abs=1e-9) and Z[:, age].std() == pytest.approx(1.0)
    raw = build_preprocessor(X, scale=False).fit(X)
    assert raw.transform(X)[:, age].tolist() == X["age"].tolist()


def test_datetime_parts_are_correct():
    X = pd.DataFrame({"when": pd.to_datetime(["2024-02-29", "2023-12-31", None]), "x": [1.0, 2.0, 3.0]})
    pre = build_preprocessor(X, scale=False).fit(X)
    names = list(pre.get_feature_names_out())
    Z = pre.transform(X)
    row = {n.split("__")[1]: Z[0, i] for i, n in enumerate(names)}
    assert (row["when_year"], row["when_month"], row["when_day"], row["when_dayofweek"]) == (2024, 2, 29, 3)


def test_timezone_aware_datetimes_use_the_local_calendar():
    X = pd.DataFrame(
        {"when": pd.date_range("2024-01-01", periods=3, tz="Europe/Berlin"), "x": [1.0, 2.0, 3.0]}
    )
    pre = build_preprocessor(X, scale=False).fit(X)
    row = dict(zip(pre.get_feature_names_out(), pre.transform(X)[0], strict=True))
    assert (row["datetime__when_year"], row["datetime__when_month"], row["datetime__when_day"]) == (
        2024,
        1,
        1,
    )


def test_nullable_and_categorical_dtypes():
    X = pd.DataFrame(
        {
            "count": pd.array([1, None, 3, 4, 2, 2], dtype="Int64"),
            "grade": pd.Categorical(["a", "b", None, "a", "b", "a"]),
            "mixed": [1, "one", 2.0, None, "two", 1],
        }
    )
    plan = plan_columns(X)
    assert [c.kind for c in plan.columns] == ["numeric", "categorical", "categorical"]
    Z = build_preprocessor(X, scale=True, plan=plan).fit_transform(X)
    assert np.isfinite(Z).all()


def test_no_usable_column_is_a_clear_error():
    X = pd.DataFrame({"id": [f"row{i}" for i in range(20)], "constant": 1})
    with pytest.raises(UsageError, match="no feature column is usable") as error:
        build_preprocessor(X, scale=False)
    assert "`id` id-like" in error.value.message and "`constant` constant" in error.value.message


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(np.zeros((3, 2))), "string names"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column names: `a`"),
    ],
)
def test_column_names_are_checked(frame, message):
    with pytest.raises(UsageError, match=message):
        plan_columns(frame)


def test_fitted_preprocessor_pickles():
    X = mixed_frame()
    pre = build_preprocessor(X, scale=True).fit(X)
    again = pickle.loads(pickle.dumps(pre))
    np.testing.assert_array_equal(again.transform(X), pre.transform(X))


def test_integer_columns_that_are_features_are_kept():
    X = pd.DataFrame({"rooms": np.random.default_rng(1).permutation(30), "size": np.arange(30.0)})
    kinds = {c.name: c.kind for c in plan_columns(X).columns}
    assert kinds == {"rooms": "numeric", "size": "numeric"}  # distinct but unsorted ints; a sorted float


_cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.sampled_from(["a", "b", "c", "2021-01-02", "?", "", "long text with several words in it here"]),
    st.booleans(),
)


@settings(max_examples=25, deadline=None)
@given(
    columns=st.lists(st.lists(_cells, min_size=12, max_size=12), min_size=1, max_size=5),
    unseen=st.lists(_cells, min_size=1, max_size=1),
)
def test_any_frame_either_transforms_to_finite_numbers_or_says_why_not(columns, unseen):
    X = pd.DataFrame({f"c{i}": pd.Series(col, dtype=object) for i, col in enumerate(columns)})
    try:
        pre = build_preprocessor(X, scale=True)
    except UsageError as error:
        assert "no feature column is usable" in error.message
        return
    Z = pre.fit_transform(X)
    assert Z.shape[0] == 12 and np.isfinite(Z).all()
    test = X.head(2).copy()
    test.iloc[0, 0] = unseen[0]  # anything at prediction time: unseen category, NaN, inf, another type
    assert np.isfinite(pre.transform(test)).all()


def test_scale_gamma_is_what_an_svc_with_gamma_scale_uses_on_the_encoded_matrix():
    from sklearn.svm import SVC

    X = mixed_frame(120)
    y = (X["age"] > 40).to_numpy()
    measured = scale_gamma(X)
    assert measured is not None
    gamma, columns, variance = measured
    encoded = build_preprocessor(X, scale=True).fit_transform(X)
    svc = SVC(gamma="scale").fit(encoded, y)
    assert gamma == pytest.approx(svc._gamma)
    assert columns == encoded.shape[1]
    assert 0 < variance < 1  # one-hot and indicator columns vary less than the scaled numeric ones


def test_scale_gamma_samples_large_frames_and_gives_up_on_unusable_ones():
    X = mixed_frame(400)
    sampled = scale_gamma(X, max_rows=100, seed=1)
    assert sampled is not None and sampled == scale_gamma(X, max_rows=100, seed=1)
    assert scale_gamma(pd.DataFrame({"id": np.arange(50)})) is None

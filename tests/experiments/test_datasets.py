import numpy as np
import pandas as pd
import pytest

from mlel.errors import UserInputError
from mlel.experiments.datasets import HeldOutSplit, dataset_slug, has_header, hold_out_validation, load_dataset

HEADED_CSV = """age,sex,chol,city,diagnosis
63,male,233,berlin,yes
37,female,,paris,no
41,female,204,?,no
56,male,236,berlin,yes
57,,354,rome,no
57,male,192,paris,yes
56,female,294,rome,no
44,male,263,berlin,yes
52,male,199,paris,yes
57,male,168,rome,no
54,female,239,berlin,yes
48,male,275,paris,no
"""

UCI_CSV = "\n".join(
    f"{5 + i % 3}.{i % 10},{3 + i % 2}.{i % 7},{1 + i % 5}.4,0.{i % 9},{['Iris-setosa', 'Iris-versicolor'][i % 2]}"
    for i in range(20)
)


@pytest.mark.parametrize("name, n_features, n_classes", [("iris", 4, 3), ("wine", 13, 3), ("breast_cancer", 30, 2),
                                                         ("digits", 64, 10)])
def test_bundled_data_sets_are_split_stratified_and_scaled(name, n_features, n_classes):
    data = load_dataset(name, seed=1, test_size=0.25)
    assert data.n_features == n_features and data.n_classes == n_classes
    assert data.X_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert set(np.unique(data.y_test)) == set(range(n_classes))          # stratified: every class held out
    assert np.allclose(data.X_train.mean(axis=0), 0, atol=1e-4)          # scaled on the training split
    assert data.image_shape == ((8, 8) if name == "digits" else None)


def test_the_split_depends_on_the_seed_only():
    a, b, c = load_dataset("wine", seed=3), load_dataset("wine", seed=3), load_dataset("wine", seed=4)
    assert np.array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_validation_is_split_off_the_training_split_only():
    data = load_dataset("wine", seed=2)
    fit, X_val, y_val = hold_out_validation(data, 0.2, seed=2)
    assert len(y_val) == int(np.ceil(len(data.y_train) * 0.2)) and len(fit.y_train) + len(y_val) == len(data.y_train)
    assert set(np.unique(y_val)) == set(range(3))                          # stratified
    assert np.array_equal(fit.X_test, data.X_test)                         # the test split is untouched
    rows = {tuple(r) for r in data.X_train}
    assert {tuple(r) for r in X_val} <= rows and {tuple(r) for r in fit.X_train} <= rows
    assert not {tuple(r) for r in X_val} & {tuple(r) for r in fit.X_train}
    with pytest.raises(UserInputError, match="validation_size"):
        hold_out_validation(data, 1.0, seed=2)


def test_synthetic_size_follows_the_arguments():
    data = load_dataset("synthetic", n_samples=200, n_features=7, test_size=0.5)
    assert data.X_train.shape == (100, 7) and data.X_test.shape == (100, 7)
    with pytest.raises(UserInputError, match="n_features"):
        load_dataset("synthetic", n_features=1)


def test_csv_with_header_missing_values_and_text_columns(tmp_path):
    path = tmp_path / "heart.csv"
    path.write_text(HEADED_CSV)
    data = load_dataset(f"csv:{path}", test_size=0.34)
    info = data.info
    assert info["header"] is True and info["target"] == "diagnosis"
    assert info["numeric_columns"] == ["age", "chol"] and info["onehot_columns"] == ["sex", "city"]
    assert info["missing_values_imputed"] == 3                            # '', '?' and an empty cell
    assert data.classes == ("no", "yes")
    assert data.n_features == 2 + 2 + 3                                   # 2 numeric + sex (2) + city (3)
    assert not np.isnan(data.X_train).any() and not np.isnan(data.X_test).any()
    assert data.name == "csv:heart.csv" and dataset_slug(f"csv:{path}") == "csv-heart"


def test_headerless_uci_csv_is_detected_and_uses_the_last_column(tmp_path):
    path = tmp_path / "iris.data"
    path.write_text(UCI_CSV + "\n")
    data = load_dataset(f"csv:{path}")
    assert data.info["header"] is False and data.info["target"] == "column_4"
    assert data.n_features == 4 and data.classes == ("Iris-setosa", "Iris-versicolor")
    assert len(data.y_train) + len(data.y_test) == 20                    # the first row is data, not a header


def test_target_by_name_or_number(tmp_path):
    path = tmp_path / "heart.csv"
    path.write_text(HEADED_CSV)
    assert load_dataset(f"csv:{path}", target="sex").info["target"] == "sex"
    assert load_dataset(f"csv:{path}", target="3").info["target"] == "city"
    with pytest.raises(UserInputError, match="target column 'nope' not found; the columns are 'age'"):
        load_dataset(f"csv:{path}", target="nope")


@pytest.mark.parametrize("rows, expected", [
    ([["a", "b", "y"], ["1", "2", "x"], ["3", "4", "z"]], True),
    ([["1", "2", "x"], ["3", "4", "z"], ["5", "6", "x"]], False),
    ([["colour", "size"], ["red", "big"], ["blue", "small"]], True),
    ([["red", "big"], ["blue", "small"], ["red", "small"]], False),      # 'red' repeats below: data
])
def test_header_detection(rows, expected):
    assert has_header(pd.DataFrame(rows, dtype=object)) is expected


def test_csv_errors_name_the_problem(tmp_path):
    with pytest.raises(UserInputError, match="CSV file not found"):
        load_dataset(f"csv:{tmp_path / 'missing.csv'}")
    regression = tmp_path / "reg.csv"
    regression.write_text("x,y\n" + "\n".join(f"{i},{i * 1.37:.3f}" for i in range(60)))
    with pytest.raises(UserInputError, match="regression target"):
        load_dataset(f"csv:{regression}")
    with pytest.raises(UserInputError, match="--target applies to csv"):
        load_dataset("iris", target="x")
    with pytest.raises(UserInputError, match="'dataset' parameter must be one of"):
        load_dataset("imagenet")


def test_test_split_round_trips(tmp_path):
    data = load_dataset("digits")
    split = HeldOutSplit(data.X_test, data.y_test, data.classes, data.image_shape)
    split.save(tmp_path / "split.npz")
    back = HeldOutSplit.load(tmp_path / "split.npz")
    assert np.array_equal(back.X_test, data.X_test) and np.array_equal(back.y_test, data.y_test)
    assert back.classes == data.classes and back.image_shape == (8, 8)

"""Data sets: scikit-learn's bundled ones, synthetic data, and any CSV file. Nothing is downloaded.

Every loader returns a :class:`Dataset` with a stratified train/test split whose features are
already preprocessed (imputed, scaled, one-hot encoded, all fitted on the training split only),
so that the held-out split saved beside a model can be fed to it as it is.
"""

from __future__ import annotations

import csv
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlel.errors import SchemaError, UserInputError, first_line
from mlel.experiments.registry import CSV_PREFIX, IMAGE_DATASETS, validate_dataset

log = logging.getLogger(__name__)

MISSING_MARKERS = ["?", "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-"]
MAX_ONEHOT_CATEGORIES = 20   # text columns with more distinct values are dropped (ids, free text)
MAX_CLASSES = 100
SYNTHETIC_SAMPLES, SYNTHETIC_FEATURES = 1000, 20  # the generated data set's default rows and features


@dataclass(frozen=True)
class Dataset:
    """A preprocessed train/test split. Features are float32, labels are class indices (int64)."""

    name: str                      # as recorded in config.json: "iris", "synthetic", "csv:heart.csv"
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    image_shape: tuple[int, int] | None = None
    info: dict = field(default_factory=dict)   # how it was loaded and preprocessed

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class HeldOutSplit:
    """The held-out split saved beside a trained model (``split.npz``), which ``infer.py`` reuses."""

    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    image_shape: tuple[int, int] | None

    def save(self, path: Path) -> None:
        with open(path, "wb") as fh:
            np.savez_compressed(
                fh,
                X_test=self.X_test,
                y_test=self.y_test,
                classes=np.asarray(self.classes, dtype=str),
                image_shape=np.asarray(self.image_shape or (), dtype=np.int64),
            )

    @classmethod
    def load(cls, path: Path) -> "HeldOutSplit":
        try:
            with np.load(path, allow_pickle=False) as data:
                shape = tuple(int(v) for v in data["image_shape"])
                return cls(
                    X_test=data["X_test"].astype(np.float32),
                    y_test=data["y_test"].astype(np.int64),
                    classes=tuple(str(c) for c in data["classes"]),
                    image_shape=shape or None,
                )
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            # a truncated file is not a zip archive; flipped bytes fail to decompress
            raise SchemaError(f"cannot read the held-out split {str(path)!r}: {first_line(exc)}") from exc



def hold_out_validation(data: Dataset, size: float, seed: int) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Split a validation part (fraction ``size``, stratified, ``seed``) off the training split.

    Returns the data set with the smaller training split, and the validation features and labels.
    The test split is untouched. The features' scaling stays the one fitted on the whole training
    split. Used to choose configurations (``mlel.tradeoff``) without looking at the test split.
    """
    import dataclasses

    if not 0.0 < float(size) < 1.0:
        raise UserInputError(f"The 'validation_size' parameter must be a fraction between 0 and 1; got {size!r}")
    try:
        X_fit, X_val, y_fit, y_val = _split(data.X_train, data.y_train, seed=seed, test_size=size)
    except UserInputError as exc:
        raise UserInputError(f"--validation-size {size}: {exc}") from exc
    return dataclasses.replace(data, X_train=X_fit, y_train=y_fit), X_val, y_val


def dataset_slug(name: str) -> str:
    """A file-name-safe short name: ``csv:/data/heart disease.csv`` -> ``csv-heart_disease``."""
    if name.startswith(CSV_PREFIX):
        name = "csv-" + Path(name[len(CSV_PREFIX):]).stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "data"


def synthetic_size(dataset: str, n_samples: int | None, n_features: int | None) -> tuple[int, int]:
    """``--n-samples``/``--n-features`` as given (``None``: not given) -> the sizes to load with; they
    describe only the generated data set, and given with another one they are a user's mistake."""
    if dataset != "synthetic" and (n_samples is not None or n_features is not None):
        raise UserInputError(f"--n-samples and --n-features apply to --dataset synthetic only; got --dataset {dataset}")
    return (SYNTHETIC_SAMPLES if n_samples is None else n_samples, SYNTHETIC_FEATURES if n_features is None else n_features)


def load_dataset(
    name: str,
    *,
    seed: int = 0,
    test_size: float = 0.25,
    n_samples: int = SYNTHETIC_SAMPLES,
    n_features: int = SYNTHETIC_FEATURES,
    target: str | None = None,
) -> Dataset:
    """Load, split (stratified, ``seed``) and preprocess one data set. Raises ``UserInputError``."""
    validate_dataset(name)
    if not 0.0 < float(test_size) < 1.0:
        raise UserInputError(f"The 'test_size' parameter must be a fraction between 0 and 1; got {test_size!r}")
    if target is not None and not name.startswith(CSV_PREFIX):
        raise UserInputError(f"--target applies to csv:PATH data sets only; {name!r} has a fixed target")
    if name.startswith(CSV_PREFIX):
        return _load_csv(Path(name[len(CSV_PREFIX):]).expanduser(), target=target, seed=seed, test_size=test_size)
    if name == "synthetic":
        X, y, classes, features, info = _synthetic(n_samples, n_features, seed)
    else:
        X, y, classes, features, info = _bundled(name)
    image_shape = (8, 8) if name in IMAGE_DATASETS else None
    X_train, X_test, y_train, y_test = _split(X, y, seed=seed, test_size=test_size)
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X_train)
    info.update(preprocessing="standard scaling, fitted on the training split", n_features=X.shape[1],
                n_classes=len(classes), classes=list(classes))
    return Dataset(
        name=name,
        X_train=scaler.transform(X_train).astype(np.float32),
        X_test=scaler.transform(X_test).astype(np.float32),
        y_train=y_train.astype(np.int64),
        y_test=y_test.astype(np.int64),
        classes=classes,
        feature_names=features,
        image_shape=image_shape,
        info=info,
    )


def _bundled(name: str):
    from sklearn import datasets as skd

    loader = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer,
              "digits": skd.load_digits}[name]
    bunch = loader()
    features = tuple(str(f) for f in getattr(bunch, "feature_names", [f"pixel_{i}" for i in range(bunch.data.shape[1])]))
    classes = tuple(str(c) for c in bunch.target_names)
    info = {"source": f"scikit-learn bundled ({loader.__name__})", "n_rows": int(bunch.data.shape[0])}
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64), classes, features, info


def _synthetic(n_samples: int, n_features: int, seed: int):
    from sklearn.datasets import make_classification

    if int(n_samples) < 20:
        raise UserInputError(f"The 'n_samples' parameter must be an integer >= 20; got {n_samples!r}")
    if int(n_features) < 2:
        raise UserInputError(f"The 'n_features' parameter must be an integer >= 2; got {n_features!r}")
    n_informative = max(2, int(n_features) // 2)
    X, y = make_classification(n_samples=int(n_samples), n_features=int(n_features), n_informative=n_informative,
                               n_redundant=0, n_classes=2, random_state=seed)
    features = tuple(f"x{i}" for i in range(int(n_features)))
    info = {"source": "sklearn.datasets.make_classification", "n_rows": int(n_samples),
            "n_informative": n_informative, "generator_seed": seed}
    return X, y.astype(np.int64), ("0", "1"), features, info


def _split(X, y, *, seed: int, test_size: float):
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    n_test = int(np.ceil(len(y) * test_size))
    stratify = y if counts[counts > 0].min() >= 2 and n_test >= np.count_nonzero(counts) else None
    try:
        return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise UserInputError(f"cannot split {len(y)} rows with test_size={test_size}: {exc}") from exc


# --- CSV -----------------------------------------------------------------------------------------


def _load_csv(path: Path, *, target: str | None, seed: int, test_size: float) -> Dataset:
    import pandas as pd

    table, info = read_csv_table(path)
    target_col = _resolve_target(table, target)
    y_raw = table[target_col]
    keep = y_raw.notna()
    dropped_rows = int((~keep).sum())
    if dropped_rows:
        log.warning("dropping %d rows whose target %r is missing", dropped_rows, target_col)
    table, y_raw = table[keep], y_raw[keep].astype(str)
    classes = _class_order(y_raw.unique())
    if len(classes) < 2:
        raise UserInputError(f"target column {target_col!r} has {len(classes)} distinct value(s); a classifier needs 2 or more")
    as_number = pd.to_numeric(y_raw, errors="coerce")
    fractional = bool(as_number.notna().all() and (as_number % 1 != 0).any())
    if (len(classes) > MAX_CLASSES or (len(classes) > 20 and len(classes) > 0.5 * len(y_raw))
            or len(classes) == len(y_raw) or fractional):
        why = ("numbers with fractions" if fractional else
               "a different value in every row" if len(classes) == len(y_raw) else "too many distinct values")
        raise UserInputError(
            f"target column {target_col!r} has {len(classes)} distinct values in {len(y_raw)} rows ({why}): "
            "that looks like a regression target or an id; mlel trains classifiers (pick another --target)"
        )
    y = y_raw.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    X_table = table.drop(columns=[target_col])

    numeric, onehot, dropped = [], [], []
    for col in X_table.columns:
        values = X_table[col]
        if values.isna().all():
            dropped.append(col)
            continue
        as_number = pd.to_numeric(values, errors="coerce")
        if as_number.notna().sum() == values.notna().sum():
            X_table[col] = as_number.astype(float)
            numeric.append(col)
        elif values.nunique(dropna=True) <= MAX_ONEHOT_CATEGORIES:
            X_table[col] = values.astype(object).where(values.notna(), None)
            onehot.append(col)
        else:
            dropped.append(col)
    if dropped:
        log.warning("dropping columns with no values or too many distinct texts (> %d): %s",
                    MAX_ONEHOT_CATEGORIES, ", ".join(map(str, dropped)))
    if not numeric and not onehot:
        raise UserInputError(f"{str(path)!r}: no usable feature columns besides the target {target_col!r}")
    missing = int(X_table[numeric + onehot].isna().sum().sum())

    idx_train, idx_test, y_train, y_test = _split(np.arange(len(y)), y, seed=seed, test_size=test_size)
    pre = _csv_preprocessor(numeric, onehot)
    X_train = pre.fit_transform(X_table.iloc[idx_train][numeric + onehot])
    X_test = pre.transform(X_table.iloc[idx_test][numeric + onehot])
    info.update(
        target=str(target_col),
        rows_dropped_missing_target=dropped_rows,
        missing_values_imputed=missing,
        numeric_columns=[str(c) for c in numeric],
        onehot_columns=[str(c) for c in onehot],
        dropped_columns=[str(c) for c in dropped],
        preprocessing="numeric: median imputation + standard scaling; text: most-frequent imputation + one-hot; "
                      "fitted on the training split",
        n_features=int(X_train.shape[1]),
        n_classes=len(classes),
        classes=list(classes),
    )
    return Dataset(
        name=f"{CSV_PREFIX}{path.name}",
        X_train=np.asarray(X_train, dtype=np.float32),
        X_test=np.asarray(X_test, dtype=np.float32),
        y_train=y_train,
        y_test=y_test,
        classes=classes,
        feature_names=tuple(str(f) for f in pre.get_feature_names_out()),
        info=info,
    )


def read_csv_table(path: Path):
    """Read a CSV into a table of strings (missing -> NaN), detecting delimiter and header row."""
    import pandas as pd

    if path.is_dir():
        raise UserInputError(f"{str(path)!r} is a folder, not a CSV file (csv:PATH names one file)")
    if not path.is_file():
        raise UserInputError(f"CSV file not found: {str(path)!r}")
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            sample = fh.read(65536)
    except OSError as exc:
        raise UserInputError(f"cannot read CSV file {str(path)!r}: {exc.strerror or exc}") from exc
    lines = [line for line in sample.splitlines() if line.strip()]
    if len(lines) < 2:
        raise UserInputError(f"CSV file {str(path)!r} has fewer than two rows")
    delimiter = _sniff_delimiter(lines)
    try:
        raw = pd.read_csv(path, sep=delimiter, header=None, dtype=str, na_values=MISSING_MARKERS,
                          keep_default_na=True, skipinitialspace=True, skip_blank_lines=True,
                          engine="python" if len(delimiter) > 1 else "c", encoding_errors="replace")
    except (ValueError, pd.errors.ParserError) as exc:
        raise UserInputError(f"cannot parse CSV file {str(path)!r}: {str(exc).splitlines()[0]}") from exc
    raw = raw.apply(lambda col: col.str.strip() if col.dtype == object else col)
    raw = raw.replace({m: np.nan for m in MISSING_MARKERS if m}).dropna(how="all")
    header = has_header(raw)
    if header:
        names = [str(v) if isinstance(v, str) and v else f"column_{i}" for i, v in enumerate(raw.iloc[0])]
        names = _unique(names)
        table = raw.iloc[1:].reset_index(drop=True)
        table.columns = names
    else:
        table = raw.reset_index(drop=True)
        table.columns = [f"column_{i}" for i in range(raw.shape[1])]
    if len(table) < 4:
        raise UserInputError(f"CSV file {str(path)!r} has only {len(table)} data rows")
    info = {"source": str(path.resolve()), "header": header, "delimiter": delimiter, "n_rows": int(len(table)),
            "columns": [str(c) for c in table.columns]}
    log.debug("read %s: %d rows, %d columns, %s header row", path, len(table), table.shape[1],
             "with a" if header else "no")
    return table, info


def _sniff_delimiter(lines: list[str]) -> str:
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|").delimiter
    except csv.Error:
        pass
    if all(len(line.split()) > 1 for line in lines[:20]):
        return r"\s+"
    return ","


def _is_number(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def has_header(raw) -> bool:
    """Whether the first row of a string table names the columns.

    Numeric columns decide: their first cell is a word in a header row and a number in a data row
    (UCI files have no header). A table of text only has a header when every first-row cell is
    filled, distinct, and never repeated below it.
    """
    first, rest = raw.iloc[0], raw.iloc[1:]
    words = numbers = 0
    for col in raw.columns:
        below = rest[col].dropna()
        if len(below) == 0:
            continue
        numeric_share = below.map(_is_number).mean()
        if numeric_share >= 0.9:
            if _is_number(first[col]):
                numbers += 1
            elif isinstance(first[col], str):
                words += 1
    if words or numbers:
        return words > numbers
    cells = list(first)
    if any(not isinstance(c, str) for c in cells) or len(set(cells)) != len(cells):
        return False
    return all(cell not in set(rest[col].dropna()) for col, cell in zip(raw.columns, cells))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _resolve_target(table, target: str | None):
    columns = list(table.columns)
    if target is None:
        return columns[-1]
    if target in columns:
        return target
    try:
        index = int(target)
    except ValueError:
        index = None
    if index is not None and -len(columns) <= index < len(columns):
        return columns[index]
    shown = ", ".join(map(repr, columns[:30])) + (", ..." if len(columns) > 30 else "")
    raise UserInputError(f"target column {target!r} not found; the columns are {shown} (or a column number)")


def _class_order(values) -> tuple[str, ...]:
    values = [str(v) for v in values]
    if all(_is_number(v) for v in values):
        return tuple(sorted(values, key=float))
    return tuple(sorted(values))


def _csv_preprocessor(numeric: list, onehot: list):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if numeric:
        parts.append(("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                                       ("scale", StandardScaler())]), numeric))
    if onehot:
        parts.append(("text", Pipeline([("impute", SimpleImputer(strategy="most_frequent", missing_values=None)),
                                        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]),
                      onehot))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=True)

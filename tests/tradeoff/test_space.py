import numpy as np
import pytest

from mlel.errors import UserInputError
from mlel.tradeoff.space import FAMILIES, UNUSED_VALUE, Candidate, Hyperparameter, SearchSpace


def test_log_scaled_integer_maps_hand_checked():
    hp = Hyperparameter("n_estimators", 10, 1000, integer=True, log=True)
    assert hp.to_unit(10) == 0.0 and hp.to_unit(1000) == 1.0
    assert hp.to_unit(100) == pytest.approx(0.5)  # the geometric middle
    assert hp.from_unit(0.5) == 100
    assert hp.from_unit(1.7) == 1000  # clipped


def test_linear_real_maps_hand_checked():
    hp = Hyperparameter("x", -1.0, 3.0)
    assert hp.to_unit(1.0) == pytest.approx(0.5)
    assert hp.from_unit(0.25) == pytest.approx(0.0)


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(UserInputError) as e:
        SearchSpace.from_models(["random_forest", "resnet"])
    msg = str(e.value)
    assert "'resnet'" in msg and "'knn'" in msg and "'mlp'" in msg


def test_encoding_union_vector_and_round_trip():
    space = SearchSpace.from_models(["knn", "svm", "mlp"])
    assert space.dim == 1 + 1 + 2 + 5
    cand = Candidate("svm", {"C": 1.0, "gamma": 0.01})
    x = space.encode(cand)
    assert x[0] == 1  # family index in the order given
    svm_cols = space.family_columns("svm")
    others = [c for c in range(1, space.dim) if c not in svm_cols]
    assert all(x[c] == UNUSED_VALUE for c in others)
    back = space.decode(x)
    assert back.model == "svm"
    assert back.values["C"] == pytest.approx(1.0) and back.values["gamma"] == pytest.approx(0.01)


def test_fixed_features_leave_only_the_familys_columns_free():
    space = SearchSpace.from_models(["knn", "svm"])
    fixed = space.fixed_features("svm")
    assert fixed[0] == 1.0
    free = set(range(space.dim)) - set(fixed)
    assert free == set(space.family_columns("svm"))


def test_mlp_params_become_hidden_layer_sizes():
    space = SearchSpace.from_models(["mlp"])
    cand = space.decode(np.array([0, 0.5, 1.0, 0.5, 0.5, 0.5]))
    params = cand.params(space)
    assert params["hidden_layer_sizes"] == [cand.values["hidden_units"]] * 3
    assert "hidden_units" not in params and "hidden_layers" not in params


def test_sobol_design_tries_every_family_and_is_seeded():
    space = SearchSpace.from_models(["random_forest", "knn", "svm"])
    a = space.sobol_design(6, seed=3)
    assert [c.model for c in a] == ["random_forest", "knn", "svm"] * 2
    assert a == space.sobol_design(6, seed=3)
    assert a != space.sobol_design(6, seed=4)


def test_grid_covers_each_family_and_interleaves():
    space = SearchSpace.from_models(["random_forest", "knn"])
    grid = space.grid(budget=18, seed=0)
    rf = [c for c in grid if c.model == "random_forest"]
    knn = [c for c in grid if c.model == "knn"]
    assert len(rf) == 9  # 3 levels x 2 hyperparameters within a share of 9
    assert len(knn) == 9 and len({c.values["n_neighbors"] for c in knn}) == 9
    assert [c.model for c in grid[:4]] == ["random_forest", "knn", "random_forest", "knn"]
    for c in rf:
        assert c.values["n_estimators"] in (5, 39, 300)  # log-spaced levels of 5..300


def test_every_declared_range_decodes_inside_its_bounds():
    for fam in FAMILIES.values():
        space = SearchSpace([fam])
        for u in (0.0, 0.37, 1.0):
            cand = space.decode(np.array([0] + [u] * (space.dim - 1)))
            for hp in fam.hyperparameters:
                v = cand.values[hp.name]
                assert hp.low <= v <= hp.high
                assert isinstance(v, int) == hp.integer

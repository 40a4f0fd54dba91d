"""Every registered algorithm honours the algorithm interface (analogff/algorithms/README.md)
and uses its matrices only through what `crossbar.base.MatrixBase` declares (in the spirit of
scikit-learn's ``parametrize_with_checks``): one list of checks, run against each algorithm
on ideal, analog and counting matrices."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from analogff.algorithms import get, names
from analogff.config import from_dict
from analogff.errors import ConfigError
from analogff.experiment import hyperparameters, make_factory
from crossbar import Ledger
from crossbar.base import MatrixBase

N_IN, N_CLASSES, B = 64, 10, 8
# MatrixBase's declared attributes and methods: all an algorithm may use of a matrix
DECLARED = {n for n in vars(MatrixBase) if not n.startswith("_")} | \
    set(MatrixBase.__annotations__) | {"shape"}


# undeclared names an algorithm asked for (a ``getattr(m, name, default)`` swallows the error)
REFUSED: list[str] = []


class InterfaceOnly:
    """A matrix that exposes only what `MatrixBase` declares; anything else is an error that
    names the attribute (and is noted in REFUSED)."""

    def __init__(self, inner) -> None:
        object.__setattr__(self, "_inner", inner)

    def __getattr__(self, name):
        if name not in DECLARED:
            REFUSED.append(name)
            raise AttributeError(f"an algorithm used {name!r}, which MatrixBase does not "
                                 "declare")
        return getattr(object.__getattribute__(self, "_inner"), name)

    def __setattr__(self, name, value):
        raise AttributeError(f"an algorithm set {name!r} on a matrix")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4 * B, N_IN)).astype(np.float32)
    y = np.arange(4 * B) % N_CLASSES
    return x, y


def _build(algo: str, backend: str, seed: int = 0):
    """The algorithm on ``backend``'s matrices (a small network), each matrix wrapped in
    `InterfaceOnly`; returns (algorithm, ledger, the wrapped matrices the factory made)."""
    steps = 2 if algo == "pff" else None    # settling steps are PFF's only option
    cfg = from_dict(dict(algo=algo, hidden="20,20" if algo != "bp" else "20", steps=steps,
                         batch_size=B, epochs=1, tile_rows=32, tile_cols=16, seed=seed,
                         ideal=backend == "ideal"))
    ledger = Ledger(phase="init")   # as `experiment.build` starts it
    REFUSED.clear()
    factory = make_factory(cfg, ledger, None if backend == "ideal" else backend)
    made = []

    def strict(*args, **kw):
        made.append(InterfaceOnly(factory(*args, **kw)))
        return made[-1]

    algo_obj = get(algo)(N_IN, N_CLASSES, hyperparameters(cfg), strict, ledger,
                         np.random.default_rng(seed))
    return algo_obj, ledger, made


@pytest.mark.parametrize("algo", names())
def test_algorithm_is_registered_with_its_interface(algo):
    """The registry's fields and the constructor every runner calls (no matrices needed)."""
    cls = get(algo)
    assert cls.name == algo
    assert {"epochs", "batch_size"} <= set(cls.defaults)
    assert cls.phases and all(isinstance(p, str) for p in cls.phases)
    params = list(inspect.signature(cls).parameters)
    assert params[:6] == ["n_in", "n_classes", "hp", "factory", "ledger", "rng"]
    assert isinstance(getattr(cls, "presets", {}), dict)


def _check_trains_and_predicts_through_the_interface(algo, backend, data):
    x, y = data
    a, ledger, made = _build(algo, backend)
    for k in range(2):
        out = a.train_batch(x[k * B:(k + 1) * B], y[k * B:(k + 1) * B])
        assert isinstance(out, dict) and np.isfinite(out["loss"])
    p = np.asarray(a.predict(x[:5]))
    assert p.shape == (5,) and np.issubdtype(p.dtype, np.integer)
    assert ((0 <= p) & (p < N_CLASSES)).all()
    assert made, "the algorithm built no matrix through the factory"
    assert not REFUSED, f"undeclared matrix attributes asked for: {sorted(set(REFUSED))}"


def _check_matrices_are_the_ones_it_made(algo, backend, data):
    """`algo.matrices` lists every matrix the factory made (pricing and checkpoints see them
    all), each once."""
    a, _ledger, made = _build(algo, backend)
    mats = list(a.matrices)
    assert len({id(m) for m in mats}) == len(mats)
    assert {id(m) for m in mats} == {id(m) for m in made}


def _check_phases_are_declared(algo, backend, data):
    x, y = data
    a, ledger, _made = _build(algo, backend)
    a.train_batch(x[:B], y[:B])
    a.predict(x[:3])
    phases = {e["phase"] for e in ledger.to_dict()["entries"]}
    assert {"update", "inference"} <= phases
    assert phases <= set(get(algo).phases) | {"init"}


def _check_seeded(algo, backend, data):
    """The same seed gives the same losses, predictions, weights and ledger."""
    x, y = data
    runs = []
    for _ in range(2):
        a, ledger, made = _build(algo, backend, seed=3)
        out = a.train_batch(x[:B], y[:B])
        runs.append((repr(out), a.predict(x[:5]).tolist(),
                     [m.weights().tobytes() for m in made], ledger.to_dict()))
    assert runs[0] == runs[1]


CHECKS = [_check_trains_and_predicts_through_the_interface, _check_matrices_are_the_ones_it_made,
          _check_phases_are_declared, _check_seeded]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[7:])
@pytest.mark.parametrize("backend", ["ideal", "analog", "counting"])
@pytest.mark.parametrize("algo", names())
def test_algorithm_conforms(algo, backend, check, data):
    check(algo, backend, data)


def test_the_interface_guard_fails_an_undeclared_use():
    """The suite's guard can fail: a matrix's private state is refused, with its name."""
    _a, _ledger, made = _build("bp", "analog")
    with pytest.raises(AttributeError, match="'_rng'"):
        made[0]._rng
    with pytest.raises(AttributeError, match="'device'"):
        made[0].device
    assert getattr(made[0], "device", None) is None and REFUSED[-1] == "device"


@pytest.mark.parametrize("algo", names())
def test_unknown_hyperparameter_is_refused(algo):
    """A key the algorithm's defaults do not have (a misspelling) is refused, not ignored."""
    cfg = from_dict(dict(algo=algo, hidden="20,20" if algo != "bp" else "20", epochs=1,
                         batch_size=B, ideal=True))
    hp = {**hyperparameters(cfg), "thetaa": 3.0}
    ledger = Ledger(phase="init")
    with pytest.raises(ConfigError, match="unknown hyperparameter 'thetaa'; known: hidden"):
        get(algo)(N_IN, N_CLASSES, hp, make_factory(cfg, ledger, None), ledger,
                  np.random.default_rng(0))


@pytest.mark.parametrize("field, value", [("steps", 2.5), ("group", 0), ("steps", True)])
def test_pff_integer_hyperparameters_are_checked(field, value):
    """Given straight to the constructor (the config checks its own), 2.5 settling steps were
    run as int(2.5) = 2."""
    cfg = from_dict(dict(algo="pff", hidden="20,20", epochs=1, batch_size=B, ideal=True))
    hp = {**hyperparameters(cfg), field: value}
    ledger = Ledger(phase="init")
    with pytest.raises(ConfigError, match=f"^{field} = {value!r} "):
        get("pff")(N_IN, N_CLASSES, hp, make_factory(cfg, ledger, None), ledger,
                   np.random.default_rng(0))

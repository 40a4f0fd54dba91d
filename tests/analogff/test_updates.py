"""Update rules (analogff/algorithms/updates.py): the scaled rule's rate against its formula,
its state (one scalar per array), its digital count, and every rule training FF/BP/PFF."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analogff.algorithms.updates import SCALED_BETA, Scaled, make_rule
from analogff.errors import ConfigError
from crossbar import IdealMatrix, Ledger


def _mat(led, out=5, inp=7):
    m = IdealMatrix(out, inp, ledger=led, name="M")
    m.program(np.zeros((out, inp), np.float32))
    return m


def test_scaled_rate_is_lr_over_running_rms_of_rank1_terms():
    led = Ledger()
    M = _mat(led)
    rule = Scaled()
    r = np.random.default_rng(0)
    v, lr = 0.0, 0.01
    for t in range(1, 4):
        x = r.standard_normal((3, 7)).astype(np.float32)
        d = r.standard_normal((3, 5)).astype(np.float32) * t
        before = M.weights()
        rule.matrix(M, x, d, lr, led)
        ms = float(np.sum((x * x).sum(1) * (d * d).sum(1))) / 35
        v = SCALED_BETA * v + (1 - SCALED_BETA) * ms
        rate = lr / (math.sqrt(v / (1 - SCALED_BETA ** t)) + 1e-6)
        np.testing.assert_allclose(M.weights() - before, -rate * (d.T @ x), rtol=1e-4, atol=1e-7)
    assert len(rule.v) == 1  # one scalar of state for the array, none per weight


def test_scaled_counts_row_norms_not_a_gradient():
    led = Ledger()
    M = _mat(led, 40, 30)
    x = np.ones((4, 30), np.float32)
    d = np.ones((4, 40), np.float32)
    Scaled().matrix(M, x, d, 0.1, led)
    assert led.get("dig_mac") == 4 * (30 + 40 + 1)
    assert led.get("sram_read_bits") == 0


def test_sgd_rule_is_the_plain_outer_product_and_adam_keeps_two_moments():
    led = Ledger()
    M = _mat(led)
    x = np.ones((2, 7), np.float32)
    d = np.full((2, 5), 0.5, np.float32)
    make_rule("sgd").matrix(M, x, d, 0.1, led)
    np.testing.assert_allclose(M.weights(), -0.1 * (d.T @ x))
    adam = make_rule("adam")
    adam.matrix(M, x, d, 0.1, led)
    assert adam.per_weight_state_bits == 64
    assert led.get("sram_read_bits") == 64 * 35


def test_unknown_rule_is_one_line_error():
    with pytest.raises(ConfigError, match="optimizer = 'nope'"):
        make_rule("nope")


@pytest.mark.parametrize("algo,opt,floor", [("ff", "scaled", 0.85), ("ff", "adam", 0.85),
                                            ("bp", "scaled", 0.9), ("bp", "adam", 0.9)])
def test_ff_bp_learn_digits_with_every_rule(algo, opt, floor):
    from analogff.config import SimConfig
    from analogff.experiment import accuracy, build, train
    net = build(SimConfig(algo=algo, ideal=True, hidden="100,100", epochs=5, batch_size=50,
                          optimizer=opt))
    train(net)
    assert accuracy(net, net.data.x_test, net.data.y_test) >= floor


def test_factored_rate_is_adafactors_row_times_column_estimate():
    from analogff.algorithms.updates import Factored
    led = Ledger()
    M = _mat(led)
    rule = Factored()
    r = np.random.default_rng(1)
    x = r.random((3, 7)).astype(np.float32) + 0.1
    d = r.standard_normal((3, 5)).astype(np.float32)
    rule.matrix(M, x, d, 0.01, led)
    # first step: R, C are the rank-1 terms' row/column sums of squares (bias-corrected)
    sq = np.einsum("bi,bj->bij", x ** 2, d ** 2).sum(0)          # Σ_b x_bi² d_bj²  (in, out)
    R, C = sq.sum(1), sq.sum(0)
    v = np.outer(R, C) / R.sum()                                    # Adafactor's v_ij
    want = -0.01 * (x.T @ d) / np.sqrt(v)   # the per-weight rate Adafactor would apply
    got = M.weights().T
    a, b = 1 / np.sqrt(R), np.sqrt(R.sum()) / np.sqrt(C)
    np.testing.assert_allclose(got, -0.01 * ((x * a).T @ (d * b)), rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-8)  # = one outer product
    assert rule.r[id(M)].shape == (7,) and rule.c[id(M)].shape == (5,)  # in + out scalars
    assert led.get("sram_read_bits") == 32 * (7 + 5)


def test_rates_prefer_rule_and_scheme_defaults_and_user_lr_keeps_the_circuit_ratio():
    from analogff.algorithms.updates import resolve_rates
    preset = {"lr": 4e-3, "lr_gen": 4e-3, "lr_scaled": 1e-2, "lr_gen_scaled": 1e-2,
              "lr_scaled_mixed": 3e-3, "lr_gen_scaled_mixed": 3e-3, "lr_sgd": 0.5,
              "lr_gen_sgd": 0.2}
    for rule, update, want in (("scaled", "deterministic", (1e-2, 1e-2)),
                               ("scaled", "mixed", (3e-3, 3e-3)),
                               ("adam", "mixed", (4e-3, 4e-3)), ("sgd", None, (0.5, 0.2))):
        hp = dict(preset, optimizer=rule)
        resolve_rates(hp, preset, None, update)
        assert (hp["lr"], hp["lr_gen"]) == want
    hp = dict(preset, optimizer="sgd")
    resolve_rates(hp, preset, 1.0, "deterministic")
    assert hp["lr"] == 1.0 and hp["lr_gen"] == pytest.approx(0.4)

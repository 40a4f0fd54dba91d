"""PFF: local rules equal finite differences of each layer's own loss; the ledger's phases;
learning on digits; the analog run with a fine device tracks its ideal twin."""

from __future__ import annotations

import numpy as np
import pytest

from analogff.algorithms.pff import PFF, ln
from analogff.config import SimConfig, from_dict
from analogff.experiment import build, make_factory, run_experiment, train
from crossbar import Ledger


def tiny_net(theta=None, seed=0):
    led = Ledger()
    rng = np.random.default_rng(seed)
    hp = dict(hidden=(8, 8), group=4, latent=3, steps=2, lr=1.0, lr_gen=1.0, optimizer="sgd")
    net = PFF(6, 3, hp, make_factory(SimConfig(ideal=True), led), led, rng)
    # all pre-activations positive: the straight-through φ' equals the true derivative
    net.b1[:] = 4.0
    net.b2[:] = 4.0
    net.V2.program(0.2 * net.V2.weights())  # keep the label's top-down drive from turning units off
    return net


def tiny_batch(net, seed=1):
    r = np.random.default_rng(seed)
    B = 3
    x = r.random((2 * B, 6)).astype(np.float32)
    y = np.array([0, 1, 2, 1, 2, 0])
    ys = np.zeros((2 * B, 3), np.float32)
    ys[np.arange(2 * B), y] = 5.0
    lab = np.array([1, 1, 1, 0, 0, 0], np.float32)
    xn = ln(x)
    z1 = r.random((2 * B, 8)).astype(np.float32)
    z2 = r.random((2 * B, 8)).astype(np.float32)
    return xn, z1, z2, ys, lab, B


def losses(net, args):
    st = net.rep_step(*args, noisy=False)
    assert (st["a1"] > 0).all() and (st["a2"] > 0).all()
    return st["losses"]


def fd_grad(net, args, getter, setter, which, eps=1e-2):
    """Central finite difference of loss `which` w.r.t. every entry of a parameter (float64)."""
    p0 = getter().astype(np.float64)
    g = np.zeros_like(p0)
    for idx in np.ndindex(p0.shape):
        for sgn in (1, -1):
            p = p0.copy()
            p[idx] += sgn * eps
            setter(p.astype(np.float32))
            g[idx] += sgn * losses(net, args)[which] / (2 * eps)
    setter(p0.astype(np.float32))
    return g


def learned_change(net, args, getter, lr=1e-3):
    """Change of a parameter after one settling step's local updates at learning rate lr."""
    before = np.array(getter(), dtype=np.float64)
    net.hp["lr"] = lr
    st = net.rep_step(*args, noisy=False)
    net.learn_rep(st, args[0], args[1], args[2], args[3], args[5])
    return np.array(getter(), dtype=np.float64) - before


@pytest.mark.parametrize("name,which", [("W1", 0), ("V1", 0), ("W2", 1), ("V2", 1), ("W3", 2)])
def test_matrix_update_equals_minus_lr_times_fd_gradient(name, which):
    net = tiny_net()
    args = tiny_batch(net)
    st = net.rep_step(*args, noisy=False)
    # put the threshold near the goodness so that the sigmoid is not saturated
    net.hp["theta"] = float(np.mean(np.concatenate([(st["z1"] ** 2).sum(1), (st["z2"] ** 2).sum(1)])))
    M = getattr(net, name)
    g = fd_grad(net, args, M.weights, M.program, which)
    lr = 1e-3
    dW = learned_change(net, args, M.weights, lr)
    assert np.abs(g).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(dW, -lr * g, rtol=0.03, atol=2e-3 * lr * np.abs(g).max())


@pytest.mark.parametrize("k,which", [(0, 0), (1, 1)])
def test_lateral_update_equals_fd_gradient_within_groups(k, which):
    net = tiny_net()
    args = tiny_batch(net)
    st = net.rep_step(*args, noisy=False)
    net.hp["theta"] = float(np.mean((st[f"z{k + 1}"] ** 2).sum(1)))
    blk = net.lat[k]
    g = fd_grad(net, args, blk.blocks, blk.program_blocks, which)
    lr = 1e-3
    d = learned_change(net, args, blk.blocks, lr)
    assert d.shape == (2, 4, 4)  # 8 units in groups of 4: only in-group weights exist
    np.testing.assert_allclose(d, -lr * g, rtol=0.03, atol=2e-3 * lr * np.abs(g).max())


def test_bias_update_equals_fd_gradient():
    net = tiny_net()
    args = tiny_batch(net)
    st = net.rep_step(*args, noisy=False)
    net.hp["theta"] = float(np.mean((st["z1"] ** 2).sum(1)))

    def set_b1(v):
        net.b1[:] = v
    g = fd_grad(net, args, lambda: net.b1.copy(), set_b1, 0)
    db = learned_change(net, args, lambda: net.b1.copy(), 1e-3)
    np.testing.assert_allclose(db, -1e-3 * g, rtol=0.03, atol=1e-8)


def _ledger_matrices_with(ledger: Ledger, counter: str) -> set[str]:
    return {m for _p, m, e in ledger.entries() if e[counter] > 0}


def test_pff_reads_only_G3_transposed_and_sets_phases():
    cfg = SimConfig(algo="pff", ideal=True, epochs=1, limit=100, hidden="20,20", steps=2,
                    batch_size=25)
    net = build(cfg)
    train(net)
    led = net.ledger
    assert _ledger_matrices_with(led, "transposed_vectors") == {"G3"}
    # G3 is the small latent matrix: latent (20) x hidden
    assert led.matrices["G3"]["cols"] == 20 and led.matrices["G3"]["rows"] == 20
    phases = set(led.phases())
    assert {"positive", "negative", "generative", "transposed", "update"} <= phases
    # positive and negative halves are read the same number of times by each matrix
    for m in ("W1", "V1", "W2", "V2"):
        assert led.get("mvm_vectors", "positive", m) == led.get("mvm_vectors", "negative", m) > 0


def test_ff_has_no_transposed_reads():
    cfg = SimConfig(algo="ff", ideal=True, epochs=1, limit=100, hidden="20,20")
    net = build(cfg)
    train(net)
    assert net.ledger.get("transposed_vectors") == 0


def test_ideal_pff_learns_digits():
    # 4 epochs: 0.917 measured (5: 0.931, 8: 0.953); the bar holds from 4, the run is seeded
    rec = run_experiment(SimConfig(algo="pff", ideal=True, epochs=4))
    assert rec["metrics"]["test_accuracy"] >= 0.90, rec["metrics"]


def test_fine_analog_pff_tracks_ideal_twin():
    # fine device: 5000 linear states (an Adam step of ~lr asks ~10-30 pulses, below the
    # 31-pulse cap), no read noise, 16-bit converters, wide ADC range
    base = dict(algo="pff", epochs=3, limit=1000, hidden="100,100", steps=4, batch_size=50,
                lr=2e-3)
    ideal = run_experiment(SimConfig(ideal=True, **base), keep_network=True)
    ana = run_experiment(from_dict(dict(device="ideal", noise=0.0, dac_bits=16, adc_bits=16,
                                        out_bound=1.0, states=5000, **base)), keep_network=True)
    assert ideal["metrics"]["test_accuracy"] > 0.5  # it learned something worth tracking
    assert abs(ana["metrics"]["test_accuracy"] - ideal["metrics"]["test_accuracy"]) <= 0.05
    assert ana["counts"]["pulses"] > 0 and ideal["counts"]["pulses"] == 0
    coarse = run_experiment(from_dict(dict(device="ideal", noise=0.0, dac_bits=16, adc_bits=16,
                                           out_bound=1.0, states=20, **base)), keep_network=True)

    def rel(rec, name):
        wi = getattr(ideal["_network"].algo, name).weights()
        wa = getattr(rec["_network"].algo, name).weights()
        return np.linalg.norm(wa - wi) / np.linalg.norm(wi)

    for name in ("W1", "W2", "V1"):
        # the fine device stays near the float trajectory; a 20-state device does not
        assert rel(ana, name) < 0.2, (name, rel(ana, name))
        assert rel(coarse, name) > 2 * rel(ana, name), (name, rel(coarse, name), rel(ana, name))

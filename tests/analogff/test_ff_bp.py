"""FF and BP on ideal matrices: local gradients vs finite differences, learning, the ledger."""

from __future__ import annotations

import numpy as np
import pytest

from analogff.algorithms.bp import BP, softmax_xent
from analogff.algorithms.ff import FF, ff_layer_delta, ff_layer_loss, l2_normalise
from analogff.algorithms.hyperparams import parse_hidden
from analogff.data import load_dataset
from analogff.errors import ConfigError
from crossbar import IdealMatrix, Ledger


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Small matrix products with a multi-threaded OpenBLAS on a loaded 2-core machine were
    measured 30-100x slower (0.3 s -> 50 s for FF on digits); one thread avoids that."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def build(cls, n_in, n_classes, hp, seed=0):
    ledger = Ledger()
    calls = []

    def factory(name, out, in_, w_max, init):
        calls.append((name, out, in_, w_max, init))
        m = IdealMatrix(out, in_, ledger=ledger, name=name)
        m.program(init)
        return m

    net = cls(n_in, n_classes, hp, factory, ledger, np.random.default_rng(seed))
    return net, ledger, calls


def train(net, ds, epochs, seed=0):
    rng = np.random.default_rng(seed)
    bs = net.hp["batch_size"]
    for _ in range(epochs):
        perm = rng.permutation(len(ds.y_train))
        for i in range(0, len(perm), bs):
            idx = perm[i:i + bs]
            out = net.train_batch(ds.x_train[idx], ds.y_train[idx])
            assert np.isfinite(out["loss"])
    return float(np.mean(net.predict(ds.x_test) == ds.y_test))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def tiny_batch(n_in=12, n_classes=3, B=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((B, n_in)).astype(np.float32), rng.integers(0, n_classes, B)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar ``f`` at ``x``, one element of ``x`` at a time."""
    num = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        num[idx] = (f(xp) - f(xm)) / (2 * eps)
    return num


# ---- FF: the local loss and its gradient ------------------------------------------------
def test_ff_delta_is_gradient_of_layer_loss():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 5))
    z[np.abs(z) < 1e-3] = 0.1  # stay away from the ReLU kink
    lab = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    theta = 0.7
    num = numeric_grad(lambda zz: ff_layer_loss(zz, lab, theta).sum(), z)
    np.testing.assert_allclose(ff_layer_delta(z, lab, theta), num, rtol=1e-6, atol=1e-9)


def test_ff_local_update_equals_finite_difference_per_layer():
    hp = {"hidden": (7, 6), "theta": 0.5, "lr": 0.1, "init_scale": 2.0}
    x, y = tiny_batch()
    net, _, _ = build(FF, 12, 3, hp)
    y_neg = (y + 1) % 3
    grads = net.local_gradients(x, y, y_neg)
    B = len(y)
    lab = np.r_[np.ones(B), np.zeros(B)]
    for M, b, g in zip(net.matrices, net.biases, grads):
        a = g["a"].astype(np.float64)          # the layer's detached input
        W0, b0 = M.weights().astype(np.float64), b.astype(np.float64)

        def loss(W, bb):
            return ff_layer_loss(a @ W.T + bb, lab, net.theta).sum() / B

        assert loss(W0, b0) == pytest.approx(g["loss"], rel=1e-5)
        num = numeric_grad(lambda W: loss(W, b0), W0)
        np.testing.assert_allclose(g["dW"], num, rtol=2e-3, atol=2e-6)
        num_b = numeric_grad(lambda bb: loss(W0, bb), b0)
        np.testing.assert_allclose(g["db"], num_b, rtol=2e-3, atol=2e-6)
    # the layers' inputs are the L2-normalised activities (LN), label written in front
    np.testing.assert_allclose(grads[0]["a"][:B], l2_normalise(net.embed(x, y)), rtol=1e-6)
    assert np.all(grads[0]["a"][:B, :3].argmax(axis=1) == y)


def test_ff_train_batch_applies_minus_lr_times_gradient():
    hp = {"hidden": (7, 6), "theta": 0.5, "lr": 0.1}
    x, y = tiny_batch()
    a, _, _ = build(FF, 12, 3, hp, seed=4)
    b, _, _ = build(FF, 12, 3, hp, seed=4)  # same weights and the same negative labels
    grads = a.local_gradients(x, y)
    b.train_batch(x, y)
    for Ma, Mb, ba, bb, g in zip(a.matrices, b.matrices, a.biases, b.biases, grads):
        np.testing.assert_allclose(Mb.weights(), Ma.weights() - 0.1 * g["dW"], atol=1e-6)
        np.testing.assert_allclose(bb, ba - 0.1 * g["db"], atol=1e-7)


def test_ff_negative_labels_are_wrong_and_cover_all_wrong_classes():
    net, _, _ = build(FF, 12, 3, {"hidden": (4,)})
    y = np.zeros(3000, dtype=np.int64)
    neg = net.negative_labels(y)
    assert np.all(neg != y) and set(np.unique(neg)) == {1, 2}


# ---- BP: gradients vs finite differences of the network loss ------------------------------
def test_bp_gradients_equal_finite_difference():
    x, y = tiny_batch(n_in=6, n_classes=4, B=5, seed=2)
    net, _, _ = build(BP, 6, 4, {"hidden": (5, 4)})
    for b in net.biases:  # non-zero biases so that they are exercised too
        b += np.float32(0.05)
    loss, grads = net.gradients(x, y)
    Ws = [M.weights().astype(np.float64) for M in net.matrices]
    bs = [b.astype(np.float64) for b in net.biases]

    def full_loss(Ws, bs):
        h = x.astype(np.float64)
        for i, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W.T + b
            if i < len(Ws) - 1:
                h = np.maximum(h, 0)
        return softmax_xent(h, y)[0].mean()

    assert full_loss(Ws, bs) == pytest.approx(loss, rel=1e-5)
    for l, (dW, db) in enumerate(grads):
        num = numeric_grad(lambda W: full_loss(Ws[:l] + [W] + Ws[l + 1:], bs), Ws[l])
        np.testing.assert_allclose(dW, num, rtol=2e-3, atol=2e-6)
        num_b = numeric_grad(lambda b: full_loss(Ws, bs[:l] + [b] + bs[l + 1:]), bs[l])
        np.testing.assert_allclose(db, num_b, rtol=2e-3, atol=2e-6)


def test_bp_train_batch_applies_minus_lr_times_gradient():
    x, y = tiny_batch(n_in=6, n_classes=4, B=5, seed=3)
    a, _, _ = build(BP, 6, 4, {"hidden": (5,), "lr": 0.2})
    b, _, _ = build(BP, 6, 4, {"hidden": (5,), "lr": 0.2})
    _, grads = a.gradients(x, y)
    b.train_batch(x, y)
    for Ma, Mb, (dW, _) in zip(a.matrices, b.matrices, grads):
        np.testing.assert_allclose(Mb.weights(), Ma.weights() - 0.2 * dW, atol=1e-6)


# ---- construction, hyperparameters ----------------------------------------------------
@pytest.mark.parametrize("cls", [FF, BP])
def test_factory_gets_init_and_room_to_move(cls):
    net, _, calls = build(cls, 64, 10, {"hidden": "20,15", "lr": None})
    assert net.hp["hidden"] == (20, 15) and net.hp["lr"] == cls.defaults["lr"]
    assert len(net.matrices) == len(calls) == (2 if cls is FF else 3)
    for name, out, in_, w_max, init in calls:
        assert init.shape == (out, in_) and init.dtype == np.float32
        assert w_max >= 3 * np.abs(init).max()
    assert len({c[0] for c in calls}) == len(calls)


def test_parse_hidden():
    assert parse_hidden("500, 500") == (500, 500)
    assert parse_hidden(64) == (64,)
    with pytest.raises(ConfigError, match="hidden"):
        parse_hidden("0,3")
    assert parse_hidden([np.int32(5), 6]) == (5, 6)
    # a size is used as given or refused in one line: never truncated (500.7 ran as 500),
    # never a bool, never a bare ValueError
    for bad in ([500.7], (20.0, 10), "20,x", 2.5, [True, 3], ""):
        with pytest.raises(ConfigError, match="hidden"):
            parse_hidden(bad)


def test_ff_rejects_too_few_inputs_for_the_label():
    with pytest.raises(ConfigError, match="label"):
        build(FF, 5, 10, {})


# ---- learning and the ledger ------------------------------------------------------------
def test_ff_learns_digits_without_transposed_reads(digits):
    net, ledger, _ = build(FF, 64, 10, {}, seed=0)
    acc = train(net, digits, epochs=10)
    assert acc >= 0.85, acc
    assert ledger.get("transposed_vectors") == 0
    phases = set(ledger.phases())
    assert {"positive", "negative", "update", "inference"} <= phases
    assert ledger.get("mvm_vectors", phase="positive") == ledger.get("mvm_vectors", phase="negative")
    assert ledger.get("update_calls", phase="update") > 0
    assert ledger.get("dig_mac", phase="positive") > 0
    assert ledger.get("rng_draws") == 10 * len(digits.y_train)
    # inference: one pass per candidate label through both layers
    assert ledger.get("mvm_vectors", phase="inference") == 10 * 2 * len(digits.y_test)


def test_bp_learns_digits_with_transposed_reads(digits):
    net, ledger, _ = build(BP, 64, 10, {}, seed=0)
    acc = train(net, digits, epochs=10)
    assert acc >= 0.93, acc
    n = 10 * len(digits.y_train)
    # transposed reads only in the backward pass, and none for the first layer
    assert ledger.get("transposed_vectors") == ledger.get("transposed_vectors", phase="backward")
    assert ledger.get("transposed_vectors") == n * (len(net.matrices) - 1)
    # stored activations: written in the forward pass, read back in backward and update
    widths = 64 + sum(net.hp["hidden"])
    assert ledger.get("sram_write_bits", phase="positive") == 8 * n * widths
    assert ledger.get("sram_read_bits", phase="backward") > 0
    # ... and every layer's delta (16 bit), written in backward, read back in the update
    d_widths = sum(net.hp["hidden"]) + 10
    assert ledger.get("sram_write_bits", phase="backward") == 16 * n * d_widths
    assert ledger.get("sram_read_bits", phase="update") == 8 * n * widths + 16 * n * d_widths
    assert {"positive", "backward", "update", "inference"} <= set(ledger.phases())
    assert ledger.get("sram_write_bits", phase="inference") == 0

"""PFF against the released algorithm (github.com/ago109/predictive-forward-forward @ adeb918,
src/pff_rnn.py and src/sim_train.py): one training mini-batch of a tiny network, digital Adam as
released, compared with an independent float64 NumPy transcription of the released equations
written here in the release's own layout (row vectors, weights stored (in, out), full n×n
lateral matrices with the competition mask, the ReLU on the lateral parameters, Keras Adam with
elementwise clipping, the teacher-forced generative circuit and the z_g step). The only thing
shared with the simulator is the random numbers (recorded from its generator and consumed here
by shape) and the initial weights."""

from __future__ import annotations

import numpy as np
import pytest

from analogff.algorithms.pff import PFF
from analogff.config import SimConfig
from analogff.experiment import make_factory
from crossbar import Ledger

D, N1, N2, C, G, GRP, B, K = 6, 8, 12, 3, 3, 4, 4, 3
HP = dict(hidden=(N1, N2), group=GRP, latent=G, steps=K, lr=0.03, lr_gen=0.01,
          optimizer="adam", theta=2.0, clip=1.0, alpha=0.3, eps_r=0.01, eps_g=0.025,
          beta=0.025, y_scale=5.0, lr_decay=None)


class Recorder:
    """Wraps a numpy Generator and keeps every normal array it hands out."""

    def __init__(self, rng):
        self.rng, self.normals = rng, []

    def standard_normal(self, shape, dtype=np.float64):
        v = self.rng.standard_normal(shape, dtype=dtype)
        self.normals.append(np.array(v, dtype=np.float64))
        return v

    def integers(self, *a, **k):
        return self.rng.integers(*a, **k)


# ---- the released equations, transcribed (float64) ---------------------------------------
def norm(z):
    return z / (np.sqrt((z * z).sum(axis=1, keepdims=True)) + 1e-8)


def relu(z):
    return np.maximum(z, 0.0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def competition_mask(n, grp):
    m = np.zeros((n, n))
    for g in range(n // grp):
        m[g * grp:(g + 1) * grp, g * grp:(g + 1) * grp] = 1.0
    return m


class KerasAdam:
    """tf.keras.optimizers.Adam(lr), defaults β1 .9, β2 .999, ε 1e-7; one step count per
    optimiser; gradients clipped to ±1 first (sim_train.py / pff_rnn.py "projection")."""

    def __init__(self, lr):
        self.lr, self.t, self.m, self.v = lr, 0, {}, {}

    def apply(self, params, grads):
        self.t += 1
        a = self.lr * np.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
        for k, g in grads.items():
            g = np.clip(g, -1.0, 1.0)
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m += 0.1 * (g - m)
            v += 0.001 * (g * g - v)
            params[k] = params[k] - a * m / (np.sqrt(v) + 1e-7)


def released_batch(P, x, y, y_neg, normals, hp):
    """One call of the release's training loop body: build the ± batch, forward(), infer()."""
    P = {k: v.copy() for k, v in P.items()}
    draws = list(normals)

    def pop(shape):
        for i, a in enumerate(draws):
            if a.shape == shape:
                return draws.pop(i)
        raise AssertionError(f"no recorded draw of shape {shape}")

    x_ = np.concatenate([x, x]).astype(np.float64)
    N = x_.shape[0]
    y_ = np.eye(C)[np.concatenate([y, y_neg])] * hp["y_scale"]
    lab = np.concatenate([np.ones(len(y)), np.zeros(len(y))])[:, None]
    n_pos = lab.sum()
    al, thr = hp["alpha"], hp["theta"]
    I1, I2 = np.eye(N1), np.eye(N2)
    z1 = relu(norm(x_) @ P["W1"] + P["b1"])
    z2 = relu(norm(z1) @ P["W2"] + P["b2"])
    opt, g_opt = KerasAdam(hp["lr"]), KerasAdam(hp["lr_gen"])
    zg = np.zeros((N, G))
    for _ in range(K):
        # representation step (pff_rnn.step): every path stops at t-1; φ' = 1
        e1, e2n = pop((N, N1)) * hp["eps_r"], pop((N, N2)) * hp["eps_r"]
        Lam1 = relu(P["L1"]) * P["M1"] * (1 - I1) - relu(P["L1"]) * I1
        Lam2 = relu(P["L2"]) * P["M2"] * (1 - I2) - relu(P["L2"]) * I2
        a1 = norm(x_) @ P["W1"] + norm(z2) @ P["V2"] + P["b1"] + e1 - z1 @ Lam1
        a2 = norm(z1) @ P["W2"] + y_ @ P["V"] + P["b2"] + e2n - z2 @ Lam2
        z1n = relu(a1) * (1 - al) + z1 * al
        z2n = relu(a2) * (1 - al) + z2 * al
        logits3 = norm(z2) @ P["W"] + P["b"]
        z3 = np.exp(logits3 - logits3.max(1, keepdims=True))
        z3 /= z3.sum(1, keepdims=True)
        grads = {}
        for zn, dname in ((z1n, "a1"), (z2n, "a2")):
            logit = thr - (zn * zn).sum(1, keepdims=True)  # calc_goodness: −G + thr
            # CE = max(l,0) − l·lab + log(1+e^−|l|); dCE/dl = σ(l) − lab; dl/dz = −2z; mean over N
            grads[dname] = (sigmoid(logit) - lab) * (-2 * zn) / N * (1 - al)
        da1, da2 = grads.pop("a1"), grads.pop("a2")
        dlog = lab * (hp["y_scale"] * z3 - y_) / n_pos  # L3 = Σ −Σ y_·log z3·lab / N_pos
        gLam1, gLam2 = -(z1.T @ da1), -(z2.T @ da2)
        g = {"W1": norm(x_).T @ da1, "V2": norm(z2).T @ da1, "b1": da1.sum(0, keepdims=True),
             "L1": (gLam1 * P["M1"] * (1 - I1) - gLam1 * I1) * (P["L1"] > 0),
             "W2": norm(z1).T @ da2, "V": y_.T @ da2, "b2": da2.sum(0, keepdims=True),
             "L2": (gLam2 * P["M2"] * (1 - I2) - gLam2 * I2) * (P["L2"] > 0),
             "W": norm(z2).T @ dlog, "b": dlog.sum(0, keepdims=True)}
        opt.apply(P, g)
        z1, z2 = z1n, z2n
        # generative step (update_generator), teacher-forced by the new states
        eg2, eg1 = pop((N, N2)) * hp["eps_g"], pop((N, N1)) * hp["eps_g"]
        v = relu(zg)
        h3 = norm(v)
        r2 = relu(h3 @ P["Gy"]) - z2
        h2 = norm(relu(z2 + eg2))
        r1 = relu(h2 @ P["G2"]) - z1
        h1 = norm(relu(z1 + eg1))
        p0 = h1 @ P["G1"]
        r0 = np.clip(p0, 0, 1) - x_
        gg = {"Gy": h3.T @ (2 * r2 / N), "G2": h2.T @ (2 * r1 / N),
              "G1": h1.T @ (2 * r0 / N * ((p0 >= 0) & (p0 <= 1)))}
        # d mean‖r2‖²/d z_g through LN (TF: the norm's gradient is 0 at z = 0), old Gy
        gh = (2 * r2 / N) @ P["Gy"].T
        n = np.sqrt((v * v).sum(1, keepdims=True))
        corr = np.divide(v * (v * gh).sum(1, keepdims=True), n * (n + 1e-8) ** 2,
                         out=np.zeros_like(v), where=n > 0)
        g_opt.apply(P, gg)
        zg = zg - hp["beta"] * (gh / (n + 1e-8) - corr)
    return P


def release_layout(net):
    """The simulator's parameters in the release's names and (in, out) layout."""
    rng = np.random.default_rng(7)

    def full_lateral(k, n):
        L = rng.uniform(0, 0.05, (n, n))  # off-block entries exist in the release, masked out
        blocks = net.S * net.lat[k].blocks()
        for g in range(n // GRP):
            L[g * GRP:(g + 1) * GRP, g * GRP:(g + 1) * GRP] = blocks[g]
        return L

    w = lambda m: m.weights().T.astype(np.float64)  # noqa: E731
    return {"W1": w(net.W1), "W2": w(net.W2), "V2": w(net.V1), "V": w(net.V2), "W": w(net.W3),
            "b1": net.b1[None].astype(np.float64), "b2": net.b2[None].astype(np.float64),
            "b": net.b3[None].astype(np.float64), "L1": full_lateral(0, N1),
            "L2": full_lateral(1, N2), "M1": competition_mask(N1, GRP),
            "M2": competition_mask(N2, GRP), "Gy": w(net.G3), "G2": w(net.G2), "G1": w(net.G1)}


def on_blocks(L, n):
    return np.stack([L[g * GRP:(g + 1) * GRP, g * GRP:(g + 1) * GRP] for g in range(n // GRP)])


def test_one_adam_batch_matches_the_released_equations():
    led = Ledger()
    net = PFF(D, C, dict(HP), make_factory(SimConfig(ideal=True), led), led,
              np.random.default_rng(3))
    P0 = release_layout(net)
    r = np.random.default_rng(11)
    x = r.random((B, D)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    rec = Recorder(np.random.default_rng(5))
    y_neg = (y + np.random.default_rng(5).integers(1, C, size=B)) % C  # the simulator's draw
    net.rng = rec
    net.train_batch(x, y)
    P1 = released_batch(P0, x, y, y_neg, rec.normals, HP)
    got = release_layout(net)
    for k in ("W1", "W2", "V2", "V", "W", "b1", "b2", "b", "Gy", "G2", "G1"):
        assert np.abs(P1[k] - P0[k]).max() > 1e-3, k  # every parameter moved: not vacuous
        np.testing.assert_allclose(got[k], P1[k], rtol=1e-4, atol=3e-6, err_msg=k)
    # lateral: effective ReLU(L) agrees, and the dead set is the release's L ≤ 0 set
    for k, (name, n) in enumerate((("L1", N1), ("L2", N2))):
        ref = on_blocks(P1[name], n)
        np.testing.assert_allclose(on_blocks(got[name], n), relu(ref), rtol=1e-4, atol=3e-6)
        np.testing.assert_array_equal(net.alive[k], ref > 0)
    assert sum((~a).sum() for a in net.alive) > 0  # the gate closed some entries: not vacuous


def test_gate_keeps_stored_lateral_nonnegative_and_dead_entries_frozen():
    led = Ledger()
    hp = dict(HP, optimizer="sgd", lr=3.0)
    net = PFF(D, C, hp, make_factory(SimConfig(ideal=True), led), led, np.random.default_rng(3))
    r = np.random.default_rng(2)
    x = r.random((B, D)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    net.train_batch(x, y)
    dead0 = [~a for a in net.alive]
    assert sum(d.sum() for d in dead0) > 0
    for _ in range(3):
        net.train_batch(x, y)
    for k in range(2):
        L = net.S * net.lat[k].blocks()
        assert (L >= 0).all()
        assert (L[dead0[k]] == 0).all()  # dead for good
        assert (~net.alive[k] >= dead0[k]).all()


def test_prior_is_a_ten_component_mixture_over_latent_codes_and_samples_reproduce():
    from analogff.experiment import build, train
    cfg = SimConfig(algo="pff", ideal=True, epochs=1, limit=200, hidden="20,20", steps=2,
                    batch_size=50)
    net = build(cfg)
    train(net)
    z = net.algo.latent_codes(net.data.x_train[:200])
    assert z.shape == (200, 20) and np.isfinite(z).all()
    net.algo.fit_prior(net.data.x_train[:200])
    assert net.algo.prior.n_components == 10
    assert net.algo.prior.means_.shape == (10, 20)
    s1 = net.algo.sample(8, np.random.default_rng(1))
    s2 = net.algo.sample(8, np.random.default_rng(1))
    assert s1.shape == (8, 64) and (s1 >= 0).all() and (s1 <= 1).all()
    np.testing.assert_array_equal(s1, s2)


def test_sample_without_prior_says_what_to_do():
    led = Ledger()
    net = PFF(D, C, dict(HP), make_factory(SimConfig(ideal=True), led), led,
              np.random.default_rng(3))
    with pytest.raises(RuntimeError, match="fit_prior"):
        net.sample(2, np.random.default_rng(0))


def test_paper_preset_keeps_the_released_constant_rate():
    """The release trains with a constant Adam rate (sim_train.py: Adam(eta)); the paper preset
    is laid over "small", which decays linearly, so it must say "constant" itself."""
    from analogff.experiment import preset_defaults

    hp = preset_defaults("pff", "paper")
    assert hp["lr_decay"] != "linear"
    net = PFF.__new__(PFF)
    net.hp, net.lr_scale = hp, 1.0
    for done in (0.0, 0.5, 0.99):
        net.set_schedule(done)
        assert net.lr_scale == 1.0
    net.hp = preset_defaults("pff", "small")   # the small preset does decay
    net.set_schedule(0.5)
    assert net.lr_scale == 0.5

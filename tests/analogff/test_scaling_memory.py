"""On-chip memory each algorithm declares (the real algorithm on the counting backend) against
the closed form of what its code keeps, and the chip each needs to train."""

from __future__ import annotations

import json

import pytest

from analogff.algorithms.layers import ACT_BITS, ERR_BITS
from analogff.estimate import build_ledgers, estimate
from crossbar.chip import Hardware

HW = Hardware()
B = 4


def _peak(algo, net, **kw):
    tl, _ = build_ledgers(HW, net, algo, batch=B, **kw)
    return tl["memory"]


@pytest.mark.parametrize("net", [(20, 16, 12, 10), (30, 8, 8, 8, 8, 5)])
def test_bp_peak_is_every_layer_input_and_delta(net):
    # BP keeps every layer's input h_{l-1} (8 bit) and every layer's delta (16 bit) until the
    # update phase: the peak is all of them at once
    ins, outs = net[:-1], net[1:]
    want = sum(B * n * ACT_BITS for n in ins) + sum(B * n * ERR_BITS for n in outs)
    mem = _peak("bp", net, optimizer="sgd")
    assert mem["peak_bits"] == want
    assert mem["peak_by_phase"]["backward"] == want


def _ff_closed_form(net):
    sizes = net[:-1]      # FF: input and hidden layers (the classes ride in the input)
    return sum(2 * B * (a + b) * ACT_BITS + 2 * B * b * ERR_BITS
               for a, b in zip(sizes[:-1], sizes[1:]))


def test_ff_peak_grows_with_depth_as_the_code_trains_all_layers_on_one_batch():
    # what the code does: positive and negative passes through every layer first, then every
    # layer's local update; so every layer's (a, h) pair and error is held at once. The peak
    # is NOT independent of depth; a layer-at-a-time schedule would be (not implemented).
    two = (20, 16, 16, 10)
    four = (20, 16, 16, 16, 16, 10)
    p2, p4 = _peak("ff", two, optimizer="sgd"), _peak("ff", four, optimizer="sgd")
    assert p2["peak_bits"] == _ff_closed_form(two)
    assert p4["peak_bits"] == _ff_closed_form(four)
    per_layer = 2 * B * 32 * ACT_BITS + 2 * B * 16 * ERR_BITS
    assert p4["peak_bits"] - p2["peak_bits"] == 2 * per_layer


def test_pff_peak_closed_form_with_pulsed_updates():
    n_in, n1, n2, C = 20, 30, 20, 10
    tl, _ = build_ledgers(HW, (n_in, n1, n2, C), "pff", batch=B, optimizer="sgd")
    N, latent = 2 * B, 20
    kept = ACT_BITS * N * (2 * n_in + C + n1 + n2 + latent)
    step = ACT_BITS * 2 * N * (n1 + n2) + ERR_BITS * (N * (n1 + n2) + B * C)
    gen = ACT_BITS * N * (latent + n2 + n1) + ERR_BITS * N * (n2 + n1 + n_in)
    assert tl["memory"]["peak_bits"] == kept + max(step, gen)
    assert not any(k.startswith("optimizer.") for k in tl["memory"]["buffer_peak_bits"])


def test_adam_state_is_declared_per_weight():
    tl, _ = build_ledgers(HW, (20, 16, 12, 10), "bp", batch=B, optimizer="adam")
    mem = tl["memory"]
    n_params = 20 * 16 + 16 + 16 * 12 + 12 + 12 * 10 + 10   # weights and biases
    state = sum(v for k, v in mem["at_peak"].items() if k.startswith("optimizer."))
    assert state == 64 * n_params


def test_energy_json_has_memory_and_the_training_chip():
    hw = HW.replace(transposed_readout="separate_periphery")
    bp = json.loads(json.dumps(estimate(hw, (64, 32, 32, 10), "bp", batch=8,
                                        optimizer="sgd").to_dict(), default=float))
    ff = json.loads(json.dumps(estimate(hw, (64, 32, 32, 10), "ff", batch=8,
                                        optimizer="sgd").to_dict(), default=float))
    for d in (bp, ff):
        mem, chip = d["energy"]["memory"], d["energy"]["training_chip"]
        assert mem["peak_bits"] > 0 and mem["moved_bits_per_train_sample"] > 0
        assert chip["area_mm2"] == pytest.approx(sum(chip["area_breakdown_mm2"].values()))
    # BP's W2, W3 are read transposed; FF reads nothing transposed
    assert bp["energy"]["training_chip"]["area_breakdown_mm2"]["transposed_periphery"] > 0
    assert ff["energy"]["training_chip"]["area_breakdown_mm2"]["transposed_periphery"] == 0

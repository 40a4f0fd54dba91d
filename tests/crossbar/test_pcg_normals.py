"""crossbar.pcg_normals draws NumPy's own float32 normals: the same bits and the same generator
state afterwards, at any thread count, wherever the stream starts; its check against NumPy
fails when a table entry is off by one step."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbar import pcg_normals as pn

R_TAIL = 3.6541528853610088          # the ziggurat's tail start: |x| beyond it is a tail draw


@pytest.fixture(scope="module", autouse=True)
def _tables():
    assert pn.usable(), "this NumPy's float32 normals are not reproduced"


def _pair(seed: int, skip: int):
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    a.standard_normal(skip, dtype=np.float32)    # odd skips leave a buffered half-word
    b.standard_normal(skip, dtype=np.float32)
    return a, b


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_large_draws_equal_numpy_bit_for_bit_and_leave_its_state(threads):
    ref, mine = _pair(3, 5)
    n = 1_500_000
    a = ref.standard_normal(n, dtype=np.float32)
    b = pn._draw_parallel(mine, n, threads)
    assert _same(a, b)
    assert ref.bit_generator.state == mine.bit_generator.state
    # the comparison covered the rare paths: tail draws (|x| > R) and the next draws agree
    assert np.count_nonzero(np.abs(a) > R_TAIL) > 50
    assert _same(ref.standard_normal(7, dtype=np.float32), mine.standard_normal(7, dtype=np.float32))


def test_public_function_takes_the_shape_and_leaves_small_draws_to_numpy(monkeypatch):
    drawn = []
    threaded = pn._draw_parallel
    monkeypatch.setattr(pn, "_draw_parallel", lambda rng, n, t: drawn.append(n) or
                        threaded(rng, n, t))
    ref, mine = _pair(8, 1)
    shape = (1000, pn.MIN_PARALLEL // 1000 + 1)
    assert _same(ref.standard_normal(shape, dtype=np.float32), pn.standard_normal_f32(mine, shape))
    small = (3, 4)                          # drawn by NumPy itself
    assert _same(ref.standard_normal(small, dtype=np.float32), pn.standard_normal_f32(mine, small))
    assert ref.bit_generator.state == mine.bit_generator.state
    assert drawn == [shape[0] * shape[1]]   # the large draw was threaded, the small one not


def test_other_bit_generators_are_left_to_numpy():
    a, b = (np.random.Generator(np.random.Philox(4)) for _ in range(2))
    n = pn.MIN_PARALLEL + 3
    assert _same(a.standard_normal(n, dtype=np.float32), pn.standard_normal_f32(b, n))
    assert a.bit_generator.random_raw() == b.bit_generator.random_raw()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), skip=st.integers(0, 5), n=st.integers(1, 30_000),
       threads=st.integers(1, 9))
def test_any_start_count_and_split_equal_numpy(seed, skip, n, threads):
    ref, mine = _pair(seed, skip)
    assert _same(ref.standard_normal(n, dtype=np.float32), pn._draw_parallel(mine, n, threads))
    assert ref.bit_generator.state == mine.bit_generator.state


def test_ranges_whose_chains_do_not_meet_are_drawn_again(monkeypatch):
    """With one recorded start per range, a range is kept only when the previous range's last
    normal ends exactly at its first word; every other range is drawn again from its true
    start. Many small ranges make both cases happen; the numbers stay NumPy's."""
    monkeypatch.setattr(pn, "_RECORDED_STARTS", 1)
    runs = []
    orig = pn._Draw.run

    def counting(self, *a, **kw):
        runs.append(a[0])
        return orig(self, *a, **kw)

    monkeypatch.setattr(pn._Draw, "run", counting)
    redrawn = 0
    for seed in range(10):
        runs.clear()
        ref, mine = _pair(seed, seed % 2)
        assert _same(ref.standard_normal(4000, dtype=np.float32),
                     pn._draw_parallel(mine, 4000, 64))
        assert ref.bit_generator.state == mine.bit_generator.state
        redrawn += len(runs) - 65           # 64 ranges + the serial remainder
    assert redrawn > 0


def _moved(table: np.ndarray, i: int, value) -> np.ndarray:
    t = table.copy()
    t[i] = value
    return t


def test_the_check_against_numpy_catches_a_table_entry_one_step_off(monkeypatch):
    k, w, f = pn._TABLES
    for name, tables in [
            ("k_209 - 1 (truncating instead of rounding)", (_moved(k, 209, k[209] - 1), w, f)),
            ("w_1 one float32 step up", (k, _moved(w, 1, np.nextafter(w[1], np.float32(1))), f)),
            ("f_100 one step up", (k, w, _moved(f, 100, np.nextafter(f[100], np.float32(2))))),
            ("f_37 one step down", (k, w, _moved(f, 37, np.nextafter(f[37], np.float32(0)))))]:
        monkeypatch.setattr(pn, "_TABLES", tables)
        assert not pn._agrees_with_numpy(), f"{name} not caught"
    monkeypatch.setattr(pn, "_TABLES", (k, w, f))
    assert pn._agrees_with_numpy()

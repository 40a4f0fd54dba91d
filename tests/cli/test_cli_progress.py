"""The simulate progress helpers: kernel-cache detection and the line naming the final accuracy."""

from __future__ import annotations

from analogff.cli.progress import MONITOR_EXAMPLES, final_accuracy_line, kernels_cached


def test_kernels_cached_sees_numba_index_files(tmp_path, monkeypatch):
    import crossbar

    fake = tmp_path / "pkg"
    fake.mkdir()
    monkeypatch.setattr(crossbar, "__file__", str(fake / "__init__.py"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    assert kernels_cached() is False                       # nothing compiled yet
    d = tmp_path / "cache" / "crossbar"
    d.mkdir(parents=True)
    (d / "kernels.forward-12.py311.nbi").write_bytes(b"")
    assert kernels_cached() is True


def test_final_accuracy_line_names_the_whole_test_set():
    rec = {"metrics": {"test_accuracy": 0.95}, "samples": {"test": 360}}
    line = final_accuracy_line(rec, monitor=True)
    assert "95.00 %" in line and "all 360 test examples" in line
    assert f"first {MONITOR_EXAMPLES}" in line
    assert "acc@" not in final_accuracy_line(rec, monitor=False)

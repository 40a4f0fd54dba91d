"""examples/study_from_python.py runs end to end: device, chip, study, DataFrame, figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_example_study_from_python(tmp_path, monkeypatch):
    out = tmp_path / "study"
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "study_from_python.py"),
                        "--out", str(out), "--epochs", "1", "--limit", "60", "--seeds", "2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (out / "accuracy_vs_noise.png").stat().st_size > 10000
    from analogff.store import ResultsStore
    from crossbar.chip import Hardware

    with ResultsStore(out / "study.db", create=False) as st:
        df = st.to_dataframe(status="done")
        rec = st.records()[0]
    assert len(df) == 8 and set(df["algo"]) == {"pff", "bp"}
    # the chip built in the script is the one stored with every run, its device the file
    hw = Hardware.from_dict(rec["hardware"])
    assert hw.adc_bits == 6 and hw.device.endswith("device.toml")
    # the store is an ordinary results store: the report reads it, prices it and builds
    # every figure of it. The figures are not written out here: rendering the same figures at
    # 300 dpi in three formats (most of a report's ~8 s of CPU) is checked on a real sweep's
    # store of the same shape by test_report_study.py::test_report_files_formats_and_tables
    import matplotlib.pyplot as plt

    import reports.figures
    from reports import build_report

    built = []
    monkeypatch.setattr(reports.figures, "save",
                        lambda fig, out, stem: (built.append(stem), plt.close(fig)))
    index = build_report(out / "study.db", tmp_path / "rep")
    html = index.read_text()
    assert "Chip priced" in html and "device.toml" in html
    assert {"energy_vs_accuracy", "accuracy_vs_noise", "per_matrix"} <= set(built)
    for stem in built:
        assert f'src="{stem}.png"' in html


def test_sensitivity_sweep_file_is_one_at_a_time_around_the_middle_values(tmp_path):
    from analogff.sweep import build_spec, expand

    pts = expand(build_spec((), ROOT / "examples" / "sensitivity.toml", (), None))
    assert len(pts) == 9 * 2 * 2
    knobs = ("c2c", "d2d", "gamma_down", "stuck_off")
    values = {k: sorted({getattr(p, k) for p in pts}) for k in knobs}
    base = {k: v[(len(v) - 1) // 2] for k, v in values.items()}   # the report's base point
    for p in pts:   # every point differs from the base in at most one knob
        assert sum(getattr(p, k) != base[k] for k in knobs) <= 1

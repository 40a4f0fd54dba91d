"""Report tables as CSV (raw numbers, SI base units) and LaTeX (booktabs, units in headers).

A column spec is ``(key, header, kind)``; ``kind`` is one of ``text``, ``int``, ``num``
(4 significant digits), ``pct`` (a fraction printed as %), ``si:<unit>`` (SI prefix), and for
grouped tables ``pct±`` / ``si±:<unit>`` / ``num±``, which read ``<key>_mean`` and ``<key>_ci``
and print ``mean ± half-width``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from .stats import si

_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", "µ": r"$\mu$", "±": r"$\pm$", "²": r"$^2$",
                "×": r"$\times$", "σ": r"$\sigma$", "–": "--", "Ω": r"$\Omega$"}


def tex_escape(s: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(s))


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def cell(row: dict[str, Any], key: str, kind: str) -> str:
    """One formatted cell (plain text, UTF-8)."""
    if kind.endswith("±") or "±:" in kind:
        base = kind.replace("±", "")
        m, h = row.get(f"{key}_mean"), row.get(f"{key}_ci")
        mean = cell({key: m}, key, base)
        # no spread (or float rounding of identical values): the mean alone
        if not _finite(h) or not _finite(m) or h <= 1e-9 * abs(m):
            return mean
        if base == "num":
            return f"{mean} ± {h:.2g}"
        if base == "pct":
            return f"{100 * m:.1f} ± {100 * h:.1f} %"
        return f"{mean} ± {si(h, base[3:], 2)}"
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if kind == "text":
        return f"{v:g}" if isinstance(v, float) else str(v)
    if kind == "int":
        return str(int(v))
    if kind == "pct":
        return f"{100 * v:.1f} %"
    if kind.startswith("si:"):
        return si(v, kind[3:])
    if kind == "bool":
        return "yes" if v else "no"
    return f"{v:.4g}" if _finite(v) else str(v)


def latex(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]],
          caption: str, label: str) -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``)."""
    align = "".join("l" if kind in ("text", "bool") else "r" for _k, _h, kind in columns)
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             rf"\caption{{{tex_escape(caption)}}}", rf"\label{{{label}}}",
             rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(tex_escape(h) for _k, h, _kind in columns) + r" \\", r"\midrule"]
    for r in rows:
        lines.append(" & ".join(tex_escape(cell(r, k, kind)) for k, _h, kind in columns)
                     + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def write(df, out: Path, stem: str, columns: Sequence[tuple[str, str, str]] | None = None,
          caption: str = "", label: str | None = None) -> list[str]:
    """Write ``stem.csv`` (every column, raw) and, given ``columns``, ``stem.tex``.
    Returns the names written."""
    df.to_csv(out / f"{stem}.csv", index=False)
    names = [f"{stem}.csv"]
    if columns is not None:
        cols = [c for c in columns if c[0] in df.columns or f"{c[0]}_mean" in df.columns]
        (out / f"{stem}.tex").write_text(
            latex(df.to_dict("records"), cols, caption, label or f"tab:{stem}"),
            encoding="utf-8")
        names.append(f"{stem}.tex")
    return names


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]],
               highlight: str | None = None) -> str:
    """An HTML table; rows whose ``highlight`` key is true get class ``warn``."""
    import html

    head = "".join(f"<th{' class=l' if kind in ('text', 'bool') else ''}>{html.escape(h)}</th>"
                   for _k, h, kind in columns)
    body = []
    for r in rows:
        cls = " class=warn" if highlight and r.get(highlight) else ""
        tds = "".join(f"<td{' class=l' if kind in ('text', 'bool') else ''}>"
                      f"{html.escape(cell(r, k, kind))}</td>" for k, _h, kind in columns)
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

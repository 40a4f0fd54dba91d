"""SPICE-level check of one crossbar tile: netlist, ngspice (through PySpice) and read-back.

The circuit is the one `crossbar.irdrop` solves (same geometry and units):

* row driver ``vd{i}`` (node ``d{i}``) at ``v[i]`` volts feeds row ``i`` at its left end;
* cell ``(i, j)`` is a resistor ``1/G[i, j]`` ohms from row node ``r{i}_{j}`` to column node
  ``c{i}_{j}`` (with ``access_resistance`` ohms in series through node ``a{i}_{j}``; cells
  with ``G == 0`` are open and left out);
* wire segments of ``wire_resistance`` ohms: driver → ``r{i}_0``, ``r{i}_{j}`` →
  ``r{i}_{j+1}``, ``c{i}_{j}`` → ``c{i+1}_{j}``, ``c{rows-1}_{j}`` → sense node ``s{j}``;
  with ``wire_resistance == 0`` the row nodes are the driver node and the column nodes the
  sense node (no wire elements);
* each sense node is held at 0 V by a zero-volt source ``vs{j}`` (virtual ground); the column
  current is that source's branch current (positive = current flowing into the sense amp).

PySpice (GPL-3) is an optional extra (``pip install "analogff[spice]"``) and is imported only
inside functions here. ngspice runs in PySpice's shared-library mode (its subprocess mode does
not work with ngspice 39); the workarounds for PySpice 1.5 + ngspice 39 are in
`_ngspice` (library path, version warning) and `run_spice` (no leak across runs).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
import shutil
import time

import numpy as np

from device_models.checks import check_number, plain

from .base import ShapeError
from .periphery import PeripheryParameterError

__all__ = ["SpiceUnavailableError", "SpiceRunError", "INSTALL_HINT", "spice_unavailable_reason",
           "require_spice", "tile_netlist", "run_spice", "relative_errors"]

INSTALL_HINT = ('install ngspice with `apt-get install ngspice libngspice0` (or conda-forge '
                '`ngspice`) and PySpice with `pip install "analogff[spice]"`')


class SpiceUnavailableError(RuntimeError):
    """ngspice's shared library or PySpice is missing; the message says how to install them."""


class SpiceRunError(RuntimeError):
    """ngspice rejected the circuit or the analysis failed."""


# detection ----------------------------------------------------------------------------------
_LIBRARY_CANDIDATES = ("libngspice.so", "libngspice.so.0", "libngspice.dylib", "libngspice.0.dylib",
                       "ngspice.dll")


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def _find_library() -> str | None:
    """A name or path of libngspice that ctypes can load, or None."""
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    candidates = [env] if env else []
    found = ctypes.util.find_library("ngspice")
    if found:
        candidates.append(found)
    candidates += list(_LIBRARY_CANDIDATES)
    for name in candidates:
        if _loadable(name):
            return name
    return None


def spice_unavailable_reason() -> str | None:
    """None when ngspice can be run through PySpice here, else a one-line reason with the fix."""
    if importlib.util.find_spec("PySpice") is None:
        return f"PySpice is not installed: {INSTALL_HINT}"
    if _find_library() is None:
        where = shutil.which("ngspice")
        what = (f"the ngspice program is at {where} but its shared library libngspice is missing"
                if where else "ngspice (libngspice) is not installed")
        return f"{what}: {INSTALL_HINT}"
    return None


def require_spice() -> None:
    """Raise `SpiceUnavailableError` (with the install instructions) unless SPICE can run."""
    reason = spice_unavailable_reason()
    if reason is not None:
        raise SpiceUnavailableError(reason)


_NGSPICE = None


def _ngspice():
    """The shared ngspice instance (created once per process)."""
    global _NGSPICE
    if _NGSPICE is not None:
        return _NGSPICE
    require_spice()
    lib = _find_library()
    # PySpice 1.5 dlopens "libngspice.so" unless told otherwise; Debian only ships
    # libngspice.so.0 without the -dev package.
    if "NGSPICE_LIBRARY_PATH" not in os.environ and lib != "libngspice.so":
        os.environ["NGSPICE_LIBRARY_PATH"] = lib
    # PySpice 1.5 logs "Unsupported Ngspice version 39" (harmless) at warning level.
    logging.getLogger("PySpice").setLevel(logging.ERROR)
    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared
        # PySpice reads the variable when first imported; if that happened before us, fix the
        # class attribute too
        if not _loadable(str(NgSpiceShared.LIBRARY_PATH).format("")):
            NgSpiceShared.LIBRARY_PATH = lib
        if not getattr(NgSpiceShared, "_analogff_bg_int", False):
            # PySpice 1.5's background-thread callback returns None where cffi needs an int:
            # every background run printed "Exception ignored from cffi callback ... TypeError"
            bg = NgSpiceShared._background_thread_running

            def _bg_running(is_running, ngspice_id, user_data):
                bg(is_running, ngspice_id, user_data)
                return 0

            NgSpiceShared._background_thread_running = staticmethod(_bg_running)
            NgSpiceShared._analogff_bg_int = True
        _NGSPICE = NgSpiceShared.new_instance()
        _reassert_signal_handlers()
    except (OSError, ImportError) as exc:
        raise SpiceUnavailableError(f"cannot load ngspice through PySpice ({exc}): {INSTALL_HINT}") from None
    return _NGSPICE


# netlist ------------------------------------------------------------------------------------
def _check_inputs(G, v, wire_resistance, access_resistance):
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] < 1 or G.shape[1] < 1:
        raise ShapeError(f"conductance matrix has shape {G.shape}; expected (rows, cols)")
    if not np.isfinite(G).all() or (G < 0).any():
        raise PeripheryParameterError("conductances must be finite and >= 0 siemens")
    v = np.asarray(v, dtype=np.float64)
    if v.shape[-1:] != (G.shape[0],) or v.ndim not in (1, 2) or not np.isfinite(v).all():
        raise ShapeError(f"input voltages have shape {v.shape}; expected ({G.shape[0]},) or "
                         f"(batch, {G.shape[0]}) finite volts")
    for name, val in (("wire_resistance", wire_resistance), ("access_resistance", access_resistance)):
        check_number(name, plain(val), 0.0, None, unit="ohms", error=PeripheryParameterError)
    return G, v, float(wire_resistance), float(access_resistance)


def tile_netlist(G: np.ndarray, v: np.ndarray, wire_resistance: float,
                 access_resistance: float = 0.0, title: str | None = None) -> str:
    """SPICE netlist (text, ``.op`` analysis) of one tile driven by ``v``.

    ``G``: (rows, cols) siemens; ``v``: (rows,) volts; resistances in ohms. Plain SPICE3 syntax
    (R and V elements only), so it also runs in other simulators. Values are written with 17
    significant digits. Node and element names are described in the module docstring.
    """
    G, v, r, ra = _check_inputs(G, v, wire_resistance, access_resistance)
    if v.ndim != 1:
        raise ShapeError(f"tile_netlist takes one input vector (rows,), got shape {v.shape}")
    R, C = G.shape
    f = "{:.17g}".format
    lines = [f"* {title or 'analogff crossbar tile'}: {R} rows x {C} cols, "
             f"wire {f(r)} ohm/segment, access {f(ra)} ohm",
             "* row drivers (V) at the left end of each row"]
    lines += [f"vd{i} d{i} 0 dc {f(v[i])}" for i in range(R)]
    lines.append("* sense amplifiers: columns held at 0 V; i(vs{j}) = column current")
    lines += [f"vs{j} s{j} 0 dc 0" for j in range(C)]
    wires = r > 0.0

    def rn(i, j):
        return f"r{i}_{j}" if wires else f"d{i}"

    def cn(i, j):
        return f"c{i}_{j}" if wires else f"s{j}"

    lines.append("* cells (1/G ohms" + (", access resistor in series" if ra > 0 else "") + ")")
    for i in range(R):
        for j in range(C):
            g = G[i, j]
            if g == 0.0:
                continue
            if ra > 0.0:
                lines.append(f"rc{i}_{j} {rn(i, j)} a{i}_{j} {f(1.0 / g)}")
                lines.append(f"ra{i}_{j} a{i}_{j} {cn(i, j)} {f(ra)}")
            else:
                lines.append(f"rc{i}_{j} {rn(i, j)} {cn(i, j)} {f(1.0 / g)}")
    if wires:
        lines.append("* row wire segments (driver -> cell 0 -> cell 1 ...)")
        for i in range(R):
            lines.append(f"rw{i}_0 d{i} r{i}_0 {f(r)}")
            lines += [f"rw{i}_{j} r{i}_{j - 1} r{i}_{j} {f(r)}" for j in range(1, C)]
        lines.append("* column wire segments (cell row i -> row i+1 ... -> sense node)")
        for j in range(C):
            lines += [f"rk{i}_{j} c{i}_{j} c{i + 1}_{j} {f(r)}" for i in range(R - 1)]
            lines.append(f"rk{R - 1}_{j} c{R - 1}_{j} s{j} {f(r)}")
    lines += [".op", ".end"]
    return "\n".join(lines) + "\n"


# running ------------------------------------------------------------------------------------
def _read_vector(ns, plot: str, name: str) -> float:
    info = ns._ngspice_shared.ngGet_Vec_Info(f"{plot}.{name}".encode("ascii"))
    from PySpice.Spice.NgSpice.Shared import FFI
    if info == FFI.NULL or info.v_realdata == FFI.NULL or info.v_length < 1:
        raise SpiceRunError(f"ngspice produced no vector {name} in plot {plot}")
    return float(info.v_realdata[0])


def _cleanup(ns) -> None:
    """Remove the loaded circuit and free every plot (each .op keeps its vectors otherwise)."""
    from PySpice.Spice.NgSpice.Shared import NgSpiceCommandError
    for command in ("remcirc", "destroy all"):
        try:
            ns.exec_command(command)
        except (NgSpiceCommandError, NameError):
            pass  # nothing loaded / nothing to destroy


def _reassert_signal_handlers() -> None:
    """Put Python's SIGINT/SIGTERM handlers back at the OS level: loading and running
    libngspice left SIGINT ignored (measured: SigIgn bit set after a run), so Ctrl-C did
    nothing during a long run. Main thread only (where Python handles signals)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        h = signal.getsignal(sig)
        if callable(h):
            signal.signal(sig, h)


def _run(ns, poll) -> None:
    """``ns.run()``; with ``poll``, in ngspice's background thread, calling ``poll()`` every
    20 ms until it ends (a long .op holds the interpreter otherwise: no signal handler, no
    other thread runs). An exception from ``poll`` halts ngspice and propagates."""
    if poll is None:
        ns.run()
        return
    lib = ns._ngspice_shared
    ns.run(background=True)
    _reassert_signal_handlers()
    t0 = time.perf_counter()
    try:
        while True:
            _reassert_signal_handlers()  # ngspice's thread may set SIGINT ignored as it starts
            poll()
            time.sleep(0.02)
            # PySpice's flag is set after bg_run returns (stale if the thread already ended):
            # trust ngspice's own state once the thread has had time to start
            if not lib.ngSpice_running() and (not ns.is_running or time.perf_counter() - t0 > 0.5):
                break
    except BaseException:
        _halt_and_wait(ns, lib)
        raise


def _halt_and_wait(ns, lib) -> None:
    """Stop ngspice's background run and return only once its thread has ended. ngspice
    checks its interrupt flag between the steps of an analysis, not inside them: during part of
    a large .op, `bg_halt` gives up after its own 1 s wait (it prints "Error: Couldn't stop
    ngspice" on fd 2) while the thread keeps solving (measured: SIGINT 0.3 to 2.4 s after a
    64 x 64 run started gave that message every time but near a vector's end). The caller's
    cleanup then removed the circuit under the live thread, and one test run crashed there
    (SIGSEGV). So the message is kept off the terminal (the caller's one line is the user's
    last word; anything else written to fd 2 during that second is lost too) and the thread
    is waited for: at most the rest of the vector."""
    fd = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                ns.halt()
            except Exception:  # noqa: BLE001 - already stopping; the caller's error matters
                pass
    finally:
        os.dup2(fd, 2)
        os.close(fd)
    while lib.ngSpice_running():
        time.sleep(0.02)


def run_spice(G: np.ndarray, v_batch: np.ndarray, wire_resistance: float,
              access_resistance: float = 0.0, progress=None,
              poll=None) -> tuple[np.ndarray, float]:
    """Solve the tile in ngspice (``.op``) for each input vector.

    ``G``: (rows, cols) siemens; ``v_batch``: (B, rows) or (rows,) volts; resistances in ohms.
    Returns ``(currents, seconds)``: column currents in amperes, shape (B, cols) (always 2-D),
    and the wall time spent in ngspice (load + analysis + read-back, summed over the batch;
    netlist text generation excluded).

    One circuit per input vector; after each run the circuit is removed (``remcirc``) and its
    plots destroyed, so memory does not grow across runs. Raises `SpiceUnavailableError` when
    PySpice or libngspice is missing, `SpiceRunError` when ngspice fails. ``progress(done)``,
    if given, is called after each vector with the number solved so far; ``poll()``, if
    given, every 20 ms while ngspice runs (in its background thread): what it raises stops
    the run (the CLI checks for SIGINT/SIGTERM there).
    """
    G, v, r, ra = _check_inputs(G, v_batch, wire_resistance, access_resistance)
    V = v[None, :] if v.ndim == 1 else v
    ns = _ngspice()
    from PySpice.Spice.NgSpice.Shared import NgSpiceCircuitError, NgSpiceCommandError
    out = np.empty((V.shape[0], G.shape[1]))
    seconds = 0.0
    for b in range(V.shape[0]):
        text = tile_netlist(G, V[b], r, ra)
        t0 = time.perf_counter()
        try:
            ns.load_circuit(text)
            _run(ns, poll)
            plot = ns.last_plot
            if not plot.startswith("op"):
                raise SpiceRunError(f"ngspice did not produce an operating point (last plot {plot!r})")
            for j in range(G.shape[1]):
                out[b, j] = _read_vector(ns, plot, f"vs{j}#branch")
        except (NgSpiceCircuitError, NgSpiceCommandError, NameError) as exc:
            raise SpiceRunError("ngspice failed: " + _failure_line(ns, exc)) from None
        finally:
            _cleanup(ns)
        seconds += time.perf_counter() - t0
        if progress is not None:
            progress(b + 1)
    return out, seconds


def _failure_line(ns, exc) -> str:
    """ngspice's own reason for a failed run: the last line that says what went wrong (its
    last line is often a note such as "Transient op finished successfully")."""
    lines = [ln.strip() for ln in (ns.stderr or ns.stdout or "").splitlines() if ln.strip()]
    bad = [ln for ln in lines if any(w in ln.lower() for w in
                                     ("error", "singular", "fail", "warning", "too small"))
           and "successfully" not in ln.lower()]
    return (bad or lines or [repr(exc)])[-1]


def relative_errors(model: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Elementwise ``|model - reference| / |reference|`` (dimensionless).

    Reference entries smaller than 1e-12 of the largest one (e.g. a column driven by all-zero
    inputs) are compared against that floor instead, so the result is always finite.
    """
    model = np.asarray(model, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    floor = 1e-12 * max(float(np.max(np.abs(reference), initial=0.0)), 1e-300)
    return np.abs(model - reference) / np.maximum(np.abs(reference), floor)

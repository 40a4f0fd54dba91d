"""Settings shared by the Numba kernels (each with its reason)."""

from __future__ import annotations

# reassociation lets LLVM vectorise the sums; NaN/inf semantics are kept (inputs are checked
# for finiteness before they get here, and no flag here assumes them away)
_FAST = {"reassoc", "contract", "nsz"}
# batch rows per parallel work item in the read kernels (fixed, so thread count cannot matter;
# a multiple of 4 for kernels.read_narrow's register blocking)
_ROWS_PER_CHUNK = 16

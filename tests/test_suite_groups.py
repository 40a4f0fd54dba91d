"""The distributed run keeps each test file on one worker (`tests/conftest.py` marks a group per
file; pytest-xdist's ``--dist loadgroup`` appends it to the test's id). Lost, a file's module
fixtures are built and its kernels compiled on both workers, and the cold suite takes ~20 s
longer: this is what pytest 9.2 did with pytest-xdist 3.8 (hence ``pytest<9.2`` in the test
extra)."""

from __future__ import annotations

import os

import pytest


def test_this_files_tests_run_in_its_own_group(request):
    if "PYTEST_XDIST_WORKER" not in os.environ or not request.config.getvalue("loadgroup"):
        pytest.skip("not a pytest-xdist worker with --dist loadgroup")
    assert request.node.nodeid.endswith("@tests/test_suite_groups.py"), request.node.nodeid

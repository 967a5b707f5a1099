"""The backend test matrix: one ``xp`` fixture over every backend and device."""

from __future__ import annotations

import numpy as np
import pytest

from toolbox.testing import BACKEND_PARAMS, backend_param


@pytest.fixture(
    params=[pytest.param(p, id=p.id, marks=[pytest.mark.gpu] if p.gpu else []) for p in BACKEND_PARAMS]
)
def xp(request):
    """A :class:`toolbox.testing.TestBackend`, active for the whole test (``use_backend``)."""
    b = backend_param(request.param)
    if isinstance(b, str):
        pytest.skip(b)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def rng():
    return np.random.default_rng(0)

"""Optimisation: the learning-rate schedule and the time budget that moves its horizon."""

from __future__ import annotations

import itertools

import pytest

from geofuse.backend.optimisation import Budget, lr_factor
from geofuse.backend.train_config import OptimSettings


def test_schedule_warms_up_then_decays() -> None:
    cosine = OptimSettings(warmup_steps=4, min_lr_ratio=0.0)
    factors = [lr_factor(step, cosine, 20) for step in range(20)]
    assert factors[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert factors[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[4:]))
    assert factors[-1] < 0.02
    poly = OptimSettings(warmup_steps=0, schedule="poly", poly_power=1.0)
    assert lr_factor(5, poly, 10) == pytest.approx(0.5)


def test_budget_ends_the_run_and_moves_the_horizon() -> None:
    now = [0.0]
    budget = Budget(100, minutes=1.0, clock="wall")
    budget.clock = lambda: now[0]
    budget.start(10)  # resumed at step 10: the pace counts this process's steps only
    now[0] = 30.0
    fraction, eta, spent = budget.after(20)  # 3 s a step, 30 s left
    assert (fraction, eta, spent) == (pytest.approx(0.5), pytest.approx(30.0), False)
    assert budget.horizon == 30
    now[0] = 60.0
    assert budget.after(30) == (1.0, 0.0, True)
    # another rank's verdict decides for all
    now[0] = 31.0
    assert budget.after(21, spent=lambda mine: True)[2] is True


def test_no_budget_runs_every_step() -> None:
    now = [0.0]
    budget = Budget(40, minutes=0.0, clock="process")
    budget.clock = lambda: now[0]
    budget.start(0)
    now[0] = 1000.0
    fraction, eta, spent = budget.after(10)
    assert (fraction, eta, spent) == (pytest.approx(0.25), pytest.approx(3000.0), False)
    assert budget.horizon == 40

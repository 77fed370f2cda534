"""``scripts/calibrate_paired.py calibrate``: which settings a command line asks for."""

from __future__ import annotations

import pytest

from scripts.calibrate_paired import SETTINGS, chosen_settings


def test_without_a_choice_the_shipped_settings() -> None:
    assert chosen_settings(None, None) == list(SETTINGS)


def test_alpha_over_k_keeps_the_default_beta_and_effect() -> None:
    assert chosen_settings(None, [2, 4]) == [(0.025, 0.10, 0.15), (0.0125, 0.10, 0.15)]


def test_beta_applies_to_the_chosen_alphas() -> None:
    # the quality half of cheaper_same_quality at the defaults: alpha 0.05 and beta 0.05 in the design's terms
    assert chosen_settings([0.05], None, 0.05) == [(0.05, 0.05, 0.15)]


@pytest.mark.parametrize("beta", [0.0, 0.5, -0.1])
def test_a_beta_outside_the_open_interval_is_refused(beta: float) -> None:
    with pytest.raises(SystemExit, match="--beta"):
        chosen_settings([0.05], None, beta)

import math

import numpy as np
import pytest
from forecast_metrics import PooledScore, mase_terms, seasonal_naive, seasonal_naive_scale, smape_terms


def test_smape_terms_in_percent() -> None:
    terms = smape_terms([100.0, 0.0, 50.0, 0.0], [80.0, 0.0, 100.0, 10.0])

    # 200 * 20 / 180 = 22.22, the point where both are zero is left out, 200 * 50 / 150 = 66.67,
    # and a forecast of 10 against an actual of 0 scores the maximum of 200.
    assert terms.tolist() == pytest.approx([200 * 20 / 180, 200 * 50 / 150, 200.0])


def test_smape_uses_magnitudes() -> None:
    terms = smape_terms([-100.0], [-80.0])

    assert terms.tolist() == pytest.approx([200 * 20 / 180])


def test_smape_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError, match="2 actual values but 1 forecast values"):
        smape_terms([1.0, 2.0], [1.0])


def test_seasonal_naive_scale_averages_seasonal_changes() -> None:
    # Season of 2: the changes from one season earlier are 3 - 1, 5 - 2, 4 - 3 and 9 - 5, whose mean is 2.5.
    assert seasonal_naive_scale([1.0, 2.0, 3.0, 5.0, 4.0, 9.0], 2) == 2.5


def test_seasonal_naive_scale_needs_more_than_one_season() -> None:
    assert math.isnan(seasonal_naive_scale([1.0, 2.0], 2))


def test_mase_terms_divide_by_scale() -> None:
    terms = mase_terms([10.0, 12.0], [11.0, 7.0], [1.0, 2.0, 3.0, 5.0, 4.0, 9.0], 2)

    # Errors 1 and 5 over the scale 2.5 of the history.
    assert terms.tolist() == pytest.approx([0.4, 2.0])


def test_mase_skips_history_without_scale() -> None:
    assert mase_terms([5.0], [4.0], [3.0, 3.0, 3.0, 3.0], 2).size == 0
    assert mase_terms([5.0], [4.0], [3.0, 4.0], 2).size == 0


def test_seasonal_naive_repeats_last_season() -> None:
    forecast = seasonal_naive([1.0, 2.0, 3.0, 4.0, 5.0], 5, 2)

    assert forecast.tolist() == [4.0, 5.0, 4.0, 5.0, 4.0]


def test_seasonal_naive_rejects_short_history() -> None:
    with pytest.raises(ValueError, match="shorter than one season"):
        seasonal_naive([1.0], 3, 2)


def test_pooled_score_averages_points_not_series() -> None:
    score = PooledScore()

    score.add([0.0], [1.0], [1.0, 2.0, 4.0], 1, with_smape=True)
    score.add([4.0, 4.0], [4.0, 5.0], [1.0, 2.0, 4.0], 1, with_smape=True)

    # sMAPE terms 200, 0 and 200 * 1 / 9; the history's one-step changes 1 and 2 give the scale 1.5,
    # so the MASE terms are 1 / 1.5, 0 and 1 / 1.5.
    assert score.smape_count() == 3
    assert score.mean_smape() == pytest.approx((200 + 0 + 200 / 9) / 3)
    assert score.mase_count() == 3
    assert score.mean_mase() == pytest.approx((1 / 1.5 + 0 + 1 / 1.5) / 3)


def test_pooled_score_leaves_non_positive_series_to_mase() -> None:
    score = PooledScore()

    score.add(np.array([-2.0, 2.0]), np.array([-1.0, 1.0]), [0.0, -1.0, 1.0], 1, with_smape=False)

    # Scale: mean of |-1 - 0| and |1 - (-1)| = 1.5; errors 1 and 1.
    assert score.smape_count() == 0
    assert math.isnan(score.mean_smape())
    assert score.mean_mase() == pytest.approx(1 / 1.5)

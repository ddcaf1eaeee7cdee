import numpy as np
import pytest

from analytics.energy import Method, counter_modulus_wh, interval_energy

NAN = float("nan")


def test_energy_is_the_counter_difference() -> None:
    result = interval_energy([0, 60, 120], [1000, 1500, 2100], [30000, 30000, 36000], rated_w=40000)
    np.testing.assert_allclose(result.energy_wh, [500, 600])
    assert list(result.method) == [Method.COUNTER, Method.COUNTER]


def test_lost_messages_do_not_lose_energy() -> None:
    # Two hours without messages: the counter still carries the energy across the gap.
    result = interval_energy([0, 7200], [0, 50_000], [NAN, NAN], rated_w=30000)
    assert result.energy_wh.tolist() == [50_000]


def test_a_reset_inside_the_day_falls_back_to_power() -> None:
    ts = [0, 60, 120, 180]
    wh = [5_000_000, 5_000_500, 40, 540]  # reset between 60 and 120
    w = [30000, 30000, 30000, 30000]
    result = interval_energy(ts, wh, w, rated_w=40000)
    np.testing.assert_allclose(result.energy_wh, [500, 500, 500])
    assert result.resets == 1
    assert list(result.method) == [Method.COUNTER, Method.POWER, Method.COUNTER]
    assert result.energy_wh.sum() == pytest.approx(1500)


def test_a_wrap_around_is_not_a_reset() -> None:
    modulus = counter_modulus_wh(1)  # 10 Wh units
    result = interval_energy(
        [0, 60], [modulus - 200, 300], [NAN, NAN], rated_w=225_000, wh_scale_exp=1
    )
    assert result.energy_wh.tolist() == [500]
    assert result.wraps == 1
    assert result.resets == 0


def test_an_impossible_jump_is_not_counted() -> None:
    # A 5 kW inverter cannot make 1 MWh in five minutes.
    result = interval_energy(
        [0, 300, 600], [1000, 1_001_000, 1_001_300], [3600, 3600, 3600], rated_w=5000
    )
    np.testing.assert_allclose(result.energy_wh, [300, 300])
    assert result.jumps == 1
    assert list(result.method) == [Method.POWER, Method.COUNTER]


def test_a_failed_counter_over_a_long_gap_is_unknown_not_guessed() -> None:
    result = interval_energy([0, 7200], [5000, 10], [2000, 2000], rated_w=5000)
    assert result.energy_wh.tolist() == [0]
    assert list(result.method) == [Method.UNKNOWN]


def test_devices_without_a_counter_integrate_power() -> None:
    result = interval_energy([0, 300, 600], [NAN, NAN, NAN], [0, 3600, 3600], rated_w=5000)
    np.testing.assert_allclose(result.energy_wh, [150, 300])


def test_unsorted_readings_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        interval_energy([60, 0], [1, 2], [0, 0], rated_w=1000)

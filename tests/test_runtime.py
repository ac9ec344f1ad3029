"""The process pool helpers: results in input order, the costliest items started first."""

import time

from toolkit.errors import SettingsError
from toolkit.runtime import map_in_order


def start_time(seconds: float) -> float:
    """When this call started (a clock every process shares), after which it takes `seconds`."""
    if seconds < 0:
        raise SettingsError("negative")
    started = time.monotonic()
    time.sleep(seconds)
    return started


def test_results_come_in_input_order_with_the_costliest_started_first():
    items = [0.02] * 6 + [1.0, -2.0]
    results = list(map_in_order(start_time, items, workers=2, cost=abs))
    assert isinstance(results[-1], SettingsError)  # raised in a worker, returned in its place
    starts = results[:-1]
    first_two = sorted(starts)[:2]
    assert starts[6] in first_two  # the 1 s item did not wait for the small ones
    assert max(starts) < starts[6] + 1.0  # and they all started while it ran: none waited


def test_without_cost_the_input_order_is_the_start_order():
    starts = list(map_in_order(start_time, [0.05, 0.05, 0.05, 0.05], workers=2))
    assert starts[0] <= starts[2] and starts[1] <= starts[3]

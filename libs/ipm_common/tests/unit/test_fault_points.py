import os
import re
import subprocess
import sys

import pytest

from ipm_common import fault_points
from ipm_common.fault_points import FaultPoints, parse


def test_parse_reads_each_point_and_count() -> None:
    assert parse("consumer.after_db_commit=3, relay.after_send=2") == {
        "consumer.after_db_commit": 3, "relay.after_send": 2}


def test_parse_of_empty_text_arms_nothing() -> None:
    assert parse("") == {}
    assert parse(" , ") == {}


@pytest.mark.parametrize("text", ["relay.after_send", "relay.after_send=0", "relay.after_send=-1",
                                  "relay.after_send=two"])
def test_parse_rejects_invalid_count(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape("relay.after_send=N with N >= 1")):
        parse(text)


def test_parse_rejects_unknown_point() -> None:
    with pytest.raises(ValueError, match=re.escape("unknown fault point 'relay.before_send'")):
        parse("relay.before_send=1")


def test_point_fires_on_its_nth_pass_only() -> None:
    points = FaultPoints({"relay.after_send": 3})

    passes = [points.reached("relay.after_send") for _ in range(5)]

    # Armed for the third pass: passes 1 and 2 go on, 3 crashes, later passes would not fire again.
    assert passes == [False, False, True, False, False]


def test_unarmed_point_never_fires() -> None:
    points = FaultPoints({"relay.after_send": 1})

    assert not points.reached("consumer.after_db_commit")
    assert not points.reached("storage.after_commit")


def test_points_count_independently() -> None:
    points = FaultPoints({"relay.after_send": 2, "consumer.after_db_commit": 1})

    assert not points.reached("relay.after_send")
    assert points.reached("consumer.after_db_commit")
    assert points.reached("relay.after_send")


def test_module_is_unarmed_without_environment_variable() -> None:
    if os.environ.get(fault_points.ENVIRONMENT_VARIABLE):
        pytest.skip("the test process itself runs with fault points armed")

    for name in fault_points.POINTS:
        fault_points.reached(name)  # returns: no point is armed


def test_armed_process_kills_itself_with_sigkill() -> None:
    script = ("from ipm_common import fault_points\n"
              "fault_points.reached('relay.after_send')\n"
              "print('first pass survived', flush=True)\n"
              "fault_points.reached('relay.after_send')\n"
              "print('second pass survived', flush=True)\n")
    environment = {**os.environ, fault_points.ENVIRONMENT_VARIABLE: "relay.after_send=2"}

    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                            timeout=60)

    assert result.stdout == "first pass survived\n"
    assert result.returncode == -9


def test_page_limit_parses_count() -> None:
    assert fault_points.parse_page_limit("250") == 250
    assert fault_points.parse_page_limit("") is None


@pytest.mark.parametrize("text", ["0", "-3", "many"])
def test_page_limit_rejects_invalid_count(text: str) -> None:
    with pytest.raises(ValueError, match="write a page count >= 1"):
        fault_points.parse_page_limit(text)

import pytest
from pydantic import BaseModel, ValidationError

from fabric.core.units import Bytes, Gbps, Meters, Millis


class Sample(BaseModel):
    size: Bytes = 0
    length: Meters = 0
    speed: Gbps = 100
    time: Millis = 0


@pytest.mark.parametrize(("raw", "expected"), [(150000, 150000), ("150KB", 150000), ("150KiB", 153600),
                                               ("1.5MB", 1500000), ("2000 B", 2000)])
def test_bytes_accept_numbers_and_units(raw, expected):
    assert Sample(size=raw).size == expected


@pytest.mark.parametrize(("raw", "expected"), [(40, 40.0), ("40m", 40.0), ("0.1km", 100.0), ("300 cm", 3.0)])
def test_lengths(raw, expected):
    assert Sample(length=raw).length == pytest.approx(expected)


def test_speed_must_be_a_port_speed():
    assert Sample(speed="400G").speed == 400
    with pytest.raises(ValidationError, match="not a port speed"):
        Sample(speed=300)


@pytest.mark.parametrize(("field", "raw"), [("length", "40ft"), ("size", "150ms"), ("time", "2kb")])
def test_wrong_unit_is_named(field, raw):
    with pytest.raises(ValidationError, match=f"unit '{raw.lstrip('0123456789.')}' is not valid"):
        Sample(**{field: raw})


def test_time_in_seconds_converts_to_ms():
    assert Sample(time="0.2s").time == 200


def test_negative_and_boolean_rejected():
    with pytest.raises(ValidationError):
        Sample(size=-1)
    with pytest.raises(ValidationError, match="boolean"):
        Sample(length=True)


@pytest.mark.parametrize("raw", [True, False])
def test_booleans_are_not_numbers(raw):
    """The bare-number fast path takes exact ints and floats only: bool is an int subclass, still refused."""
    with pytest.raises(ValidationError, match="got a boolean"):
        Sample(length=raw)
    with pytest.raises(ValidationError, match="got a boolean"):
        Sample(speed=raw)


@pytest.mark.parametrize(("field", "raw"), [("length", -1), ("length", -0.5), ("size", -1), ("time", -5)])
def test_negative_values_are_refused(field, raw):
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Sample(**{field: raw})


def test_bounds_export_as_json_schema_minimum():
    props = Sample.model_json_schema()["properties"]
    assert props["length"]["minimum"] == 0 and props["size"]["minimum"] == 0 and props["time"]["minimum"] == 0


@pytest.mark.parametrize("raw", [float("inf"), float("nan"), "1e400m", ".inf"])
def test_a_length_must_be_finite(raw):
    """An infinite cable would give an infinite headroom need and delay: refused like an infinite size."""
    with pytest.raises(ValidationError, match=r"finite number|expected a length"):
        Sample(length=raw)

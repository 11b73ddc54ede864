from pathlib import Path

import pytest

from fabric.inventory import load_inventory
from fabric.inventory.select import select_devices


@pytest.fixture(scope="module")
def fabric():
    return load_inventory(Path("inventories/lab-roce")).fabric


@pytest.mark.parametrize(("patterns", "expected"), [
    ([], 22),
    (["leaf*"], ["leaf1", "leaf2", "leaf3", "leaf4"]),
    (["role:spine"], ["spine1", "spine2"]),
    (["group:spines"], ["spine1", "spine2"]),
    (["spines"], ["spine1", "spine2"]),
    (["platform:eos", "spine1"], ["spine1", "leaf3"]),
    (["!role:server"], ["spine1", "spine2", "leaf1", "leaf2", "leaf3", "leaf4"]),
    (["leaf*", "!leaf[12]"], ["leaf3", "leaf4"]),
    (["nothing*"], []),
])
def test_select(fabric, patterns, expected):
    got = select_devices(fabric, patterns)
    assert (len(got) if isinstance(expected, int) else got) == expected

from fabric.render.filters import join_ints, kbytes, number, ranges, seconds


def test_ranges():
    assert ranges([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
    assert ranges([3]) == "3"
    assert ranges([]) == ""
    assert ranges([0, 1, 2], sep=" ", dash=" to ") == "0 to 2"


def test_formatting():
    assert join_ints([3, 4]) == "3,4"
    assert kbytes(1024) == 1 and kbytes(1025) == 2 and kbytes(0) == 0
    assert number(1.0) == "1" and number(2.5) == "2.5"
    assert seconds(200) == "0.2" and seconds(1500) == "1.5"


def test_dump_tables_is_valid_sorted_json_one_entry_per_line():
    import json

    from fabric.render.render import dump_tables

    tables = {"PORT": {"Ethernet8": {"mtu": "9216"}, "Ethernet0": {"mtu": "9216", "speed": "400000"}},
              "EMPTY": {}, "DEVICE_METADATA": {"localhost": {"buffer_model": "dynamic"}}}
    text = dump_tables(tables)
    assert json.loads(text) == tables
    lines = text.splitlines()
    assert lines[1] == '  "DEVICE_METADATA": {'
    assert '    "Ethernet0": {"mtu": "9216", "speed": "400000"},' in lines
    assert lines.index('    "Ethernet0": {"mtu": "9216", "speed": "400000"},') < lines.index(
        '    "Ethernet8": {"mtu": "9216"}')


def test_dump_tables_encodes_every_value_type_like_json_dumps():
    """String-only entries are encoded once per distinct content; 1, True and "1" must stay distinct."""
    import json

    from fabric.render.render import dump_tables

    entries = {"a": {"x": "1"}, "b": {"x": 1}, "c": {"x": True}, "d": {"x": 1.5}, "e": {"x": None},
               "f": {"y": ["3", 4], "x": {"z": "é"}}, "g": {"x": "1"}, "h": "plain", "i": {}}
    text = dump_tables({"T": entries})
    expected = [f"    {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(entries.items())]
    assert text.splitlines()[2:-2] == [line + "," for line in expected[:-1]] + expected[-1:]
    assert json.loads(text) == {"T": entries}

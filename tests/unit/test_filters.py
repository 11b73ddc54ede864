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

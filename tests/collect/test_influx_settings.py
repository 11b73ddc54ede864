"""InfluxDB settings are checked before any cycle: a missing token or a malformed URL is one line and exit 2
(README: usage, missing credentials), never a run that spools everything as if the server were down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fabric.sink.base import SinkError
from fabric.sink.influx import InfluxSink
from tests.collect.test_cli_collect import run
from tests.conftest import INVENTORIES


def settings(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"FABRIC_INFLUX_URL": "http://127.0.0.1:9", "XDG_STATE_HOME": str(tmp_path), **env}


@pytest.mark.parametrize("token", [None, "", "  "])
def test_missing_or_empty_token_is_a_sink_error(tmp_path: Path, token: str | None) -> None:
    env = settings(tmp_path, **({} if token is None else {"FABRIC_INFLUX_TOKEN": token}))
    with pytest.raises(SinkError, match=r"^--sink influx: FABRIC_INFLUX_TOKEN is (unset|empty) for "
                                        r"http://127\.0\.0\.1:9; set it"):
        InfluxSink.from_settings(env, {})


@pytest.mark.parametrize("url", ["notaurl", "ftp://x", "http://[::1", "http://", "https://host:99999",
                                 "localhost:8086"])
def test_malformed_url_is_a_sink_error_naming_the_flag(tmp_path: Path, url: str) -> None:
    env = settings(tmp_path, FABRIC_INFLUX_TOKEN="tok")
    with pytest.raises(SinkError, match=r"^--influx-url '.*': not (a URL|an http\(s\) URL)"):
        InfluxSink.from_settings(env, {"url": url})
    with pytest.raises(SinkError, match=r"^FABRIC_INFLUX_URL '.*': not"):
        InfluxSink.from_settings({**env, "FABRIC_INFLUX_URL": url}, {})


def test_url_password_is_never_printed(tmp_path: Path) -> None:
    with pytest.raises(SinkError) as caught:
        InfluxSink.from_settings(settings(tmp_path), {"url": "http://user:hunter2@127.0.0.1:9"})
    assert "hunter2" not in str(caught.value) and "***@127.0.0.1:9" in str(caught.value)


def test_bad_spool_size_is_a_sink_error(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="FABRIC_INFLUX_SPOOL_MB 'lots'"):
        InfluxSink.from_settings(settings(tmp_path, FABRIC_INFLUX_TOKEN="t", FABRIC_INFLUX_SPOOL_MB="lots"), {})


def test_good_settings_open_a_sink(tmp_path: Path) -> None:
    sink = InfluxSink.from_settings(settings(tmp_path, FABRIC_INFLUX_TOKEN="t"), {"url": "https://[::1]:8086/"})
    assert sink.url == "https://[::1]:8086/"
    sink.client.close()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--influx-url", "http://127.0.0.1:9"], {}, "FABRIC_INFLUX_TOKEN is unset"),
    (["--influx-url", "http://127.0.0.1:9"], {"FABRIC_INFLUX_TOKEN": ""}, "FABRIC_INFLUX_TOKEN is empty"),
    (["--influx-url", "ftp://x"], {"FABRIC_INFLUX_TOKEN": "tok-123-secret"}, "--influx-url 'ftp://x'"),
    (["--influx-url", "http://[::1"], {"FABRIC_INFLUX_TOKEN": "tok-123-secret"}, "--influx-url 'http://[::1'"),
    # a token read from a two-line file: http.client refuses the header, so every POST failed with 'ValueError'
    (["--influx-url", "http://127.0.0.1:9"], {"FABRIC_INFLUX_TOKEN": "tok-123-secret\nexport X=1"},
     "FABRIC_INFLUX_TOKEN for http://127.0.0.1:9 holds spaces, line breaks or non-ASCII"),
    (["--influx-url", "http://127.0.0.1:9"], {"FABRIC_INFLUX_TOKEN": "tok-123-secr\u00e9t"}, "non-ASCII characters"),
    (["--influx-url", "http://127.0.0.1:9", "--spool", "/proc/self/fabric-spool"],
     {"FABRIC_INFLUX_TOKEN": "tok-123-secret"}, "--spool /proc/self/fabric-spool: No such file or directory; pass a "
     "folder this user can write")])
def test_collect_exits_2_with_one_line_before_collecting(tmp_path: Path, args: list[str], env: dict[str, str],
                                                         says: str) -> None:
    result = run(str(INVENTORIES / "lab-roce"), "--once", "--no-cli", "--sink", "influx", "--spool",
                 str(tmp_path / "spool"), *args, env={"FABRIC_SNMP_COMMUNITY": "public", **env})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and says in result.stderr and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr and "tok-123" not in result.stderr and "collect:" not in result.stderr
    assert not (tmp_path / "spool").exists()


def test_a_spool_in_use_by_another_collector_is_a_sink_error(tmp_path: Path) -> None:
    """Two collectors on one spool folder (two inventories of one user, both on the default) numbered their
    batches alike: each overwrote and replayed the other's while the server was away."""
    env = settings(tmp_path, FABRIC_INFLUX_TOKEN="t")
    first = InfluxSink.from_settings(env, {})
    try:
        with pytest.raises(SinkError) as caught:
            InfluxSink.from_settings(env, {})
        assert str(caught.value) == (f"--spool {tmp_path / 'fabric' / 'collect-spool'} is in use by another fabric "
                                     f"collect (pid {os.getpid()}); give each collector its own --spool DIR")
    finally:
        first.close()
    InfluxSink.from_settings(env, {}).close()  # free again once the first has closed

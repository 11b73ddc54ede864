"""InfluxDB v2 sink through influxdb-client: batches of pre-serialised line protocol (5x faster than ``Point``
objects, toolchain.md; series prefixes cached by ``LineEncoder``), gzip, retry with backoff, and a bounded
on-disk spool while the server is away.

Every POST runs in the sink's own thread, so a slow or silent server never holds a collection cycle. Order
guarantee: once anything is spooled, new batches go behind it, and the spool drains oldest first before anything
new is posted directly — so points reach the server in write order. A batch the server refuses to parse (HTTP
400/413/422) leaves the queue for ``SPOOL/rejected/``; a refused token, org or bucket (401/403/404) keeps
everything spooled until it is fixed. Records are always lists (the
batching ``WriteApi`` + default tags + generator combination silently writes nothing; we use SYNCHRONOUS writes
and our own batching instead). The token is read from ``FABRIC_INFLUX_TOKEN`` only, never from a flag.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from gzip import compress as gzip_compress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fabric.core.sample import Sample
from fabric.sink.base import SinkError
from fabric.sink.lineprotocol import LineEncoder
from fabric.sink.spool import Spool, SpoolBusy

log = logging.getLogger("fabric.sink.influx")

DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024
WAIT_S = 2.0
REJECTED = frozenset({400, 413, 422})  # the batch itself: InfluxDB 2 answers 400 to a line it cannot parse
REFUSED = frozenset({401, 403, 404})  # the settings: a token without write access, an org or bucket not found
_HINTS = {401: ": FABRIC_INFLUX_TOKEN is not accepted; set a valid API token",
          403: ": FABRIC_INFLUX_TOKEN has no write access to the bucket; grant it or use another token",
          404: ": the org or bucket does not exist; check --influx-org/--influx-bucket (FABRIC_INFLUX_ORG/BUCKET)"}
TOKEN = re.compile(r"[!-~]+")  # printable ASCII without spaces: what an HTTP Authorization header can carry


class InfluxSink:
    def __init__(self, url: str, org: str, bucket: str, token: str, spool_dir: Path,
                 spool_bytes: int = DEFAULT_SPOOL_BYTES, batch_points: int = 5000, attempts: int = 3,
                 backoff_s: float = 0.2, timeout_s: float = 10.0, gzip: bool = True) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.domain.write_precision import WritePrecision

        self.url, self.org, self.bucket = url, org, bucket
        self.batch_points, self.attempts, self.backoff_s = batch_points, attempts, backoff_s
        # gzip is ours, not the client's: influxdb-client compresses at level 9, 4.5x the CPU of level 1 for a
        # body ~20 % smaller on line protocol (measured on a 5000-point batch); the client still sends it
        self.gzip = gzip
        self.client = InfluxDBClient(url=url, token=token, org=org, enable_gzip=False,
                                     timeout=int(timeout_s * 1000), retries=False)
        if gzip:
            self.client.api_client.set_default_header("Content-Encoding", "gzip")  # type: ignore[no-untyped-call]
        self.precision: Any = WritePrecision.NS  # a str constant the stubs type as str
        self.api = self.client.write_api(write_options=SYNCHRONOUS)
        self.spool = Spool(spool_dir, spool_bytes)
        self.encoder = LineEncoder()
        self.written = self.failed_posts = self.rejected = 0
        self._reported_drops = 0
        self._why: str | None = None  # why writes fail now, None while they work
        self._rejected_why = ""
        # how long a write waits for its POSTs: a healthy server takes well under a second for a cycle's batches;
        # past this the thread goes on alone and the cycle with it
        self.timeout_s, self.wait_s = timeout_s, min(timeout_s, WAIT_S)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Event()
        self._idle.set()
        self._queue: deque[list[str]] = deque()  # batches handed to the thread, newer than all that is spooled
        self._work = self._inflight = self._closed = False
        self._thread = threading.Thread(target=self._run, name="influx-sink", daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, env: Mapping[str, str], options: Mapping[str, str | None]) -> InfluxSink:
        """Flags override ``FABRIC_INFLUX_URL/ORG/BUCKET``; the token comes from ``FABRIC_INFLUX_TOKEN`` only."""
        def pick(key: str, default: str | None = None) -> str | None:
            return options.get(key) or env.get(f"FABRIC_INFLUX_{key.upper()}") or default

        url = pick("url")
        if not url:
            raise SinkError("--sink influx: no server; pass --influx-url or set FABRIC_INFLUX_URL")
        check_url(url, "--influx-url" if options.get("url") else "FABRIC_INFLUX_URL")
        token = env.get("FABRIC_INFLUX_TOKEN", "").strip()
        if not token:
            state = "empty" if "FABRIC_INFLUX_TOKEN" in env else "unset"
            raise SinkError(f"--sink influx: FABRIC_INFLUX_TOKEN is {state} for {redact(url)}; set it to an InfluxDB "
                            "API token with write access to the bucket")
        if not TOKEN.fullmatch(token):  # an HTTP header cannot carry it: every POST would fail, and quietly
            raise SinkError(f"--sink influx: FABRIC_INFLUX_TOKEN for {redact(url)} holds spaces, line breaks or "
                            "non-ASCII characters (a pasted or multi-line value?); set it to the API token alone")
        spool = pick("spool") or str(default_spool(env))
        raw_mb = pick("spool_mb") or str(DEFAULT_SPOOL_BYTES / 2**20)
        try:
            spool_mb = float(raw_mb)
        except ValueError:
            spool_mb = math.nan
        if not math.isfinite(spool_mb) or spool_mb <= 0:
            raise SinkError(f"--sink influx: FABRIC_INFLUX_SPOOL_MB {raw_mb!r} is not a positive number of MB")
        try:
            return cls(url, pick("org", "fabric") or "fabric", pick("bucket", "fabric") or "fabric", token,
                       Path(spool), int(spool_mb * 2**20))
        except OSError as exc:  # the spool folder cannot be created or read
            raise SinkError(f"--spool {spool}: {exc.strerror or exc}; pass a folder this user can write (--spool "
                            "DIR)") from None
        except SpoolBusy as exc:
            raise SinkError(f"--spool {exc}") from None

    def _post(self, lines: list[str], attempts: int) -> str:
        """POST one batch: ``ok``; ``rejected`` (the server read it and refused its content, HTTP 400/413/422:
        sending it again cannot help); ``refused`` (the token, org or bucket is wrong, HTTP 401/403/404: nothing
        gets in until the operator fixes them); ``down`` (unreachable, timed out, 5xx, 429: try again later).
        Only a quick ``down`` is retried here, with backoff; a timeout has already cost its wait."""
        delay = self.backoff_s
        outcome = "down"
        for attempt in range(attempts):
            try:
                body = "\n".join(lines).encode()  # one record: the client then sends it as is, no per-line work
                if self.gzip:
                    body = gzip_compress(body, compresslevel=1)
                self.api.write(bucket=self.bucket, org=self.org, record=body, write_precision=self.precision)
                self._trouble(None)
                return "ok"
            except Exception as exc:
                self.failed_posts += 1
                status = getattr(exc, "status", None)
                outcome = "rejected" if status in REJECTED else "refused" if status in REFUSED else "down"
                log.debug("influx %s: write failed (%s), attempt %d/%d", self.url, _reason(exc), attempt + 1,
                          attempts)
                if outcome != "down" or "Timeout" in type(exc).__name__ or attempt + 1 == attempts:
                    if outcome != "rejected":
                        self._trouble(f"{_reason(exc)}{_HINTS.get(status or 0, '')}")
                    else:
                        self._rejected_why = _reason(exc)
                    return outcome
                time.sleep(delay)
                delay *= 2
        return outcome

    def _trouble(self, why: str | None) -> None:
        """One line when writes start failing or fail for a new reason, one when they work again: not a line per
        attempt per cycle while the server is away."""
        with self._lock:
            if why == self._why:
                return
            self._why, waiting = why, self.spool.depth()
        if why is None:
            log.warning("influx %s: writes work again%s", self.url,
                        f"; replaying {waiting} spooled points" if waiting else "")
        else:
            log.error("influx %s: cannot write (%s); spooling to %s, replayed in order once it works", self.url, why,
                      self.spool.folder)

    def _set_aside(self, lines: list[str], batch: Path | None = None) -> None:
        """A batch the server refused to read is kept on disk for the operator, out of the replay queue (it would
        block everything behind it for ever), and counted."""
        kept = self.spool.set_aside(lines, batch)
        self.rejected += len(lines)
        log.error("influx %s: server rejected %d points (%s); kept in %s, the next batches go on", self.url,
                  len(lines), self._rejected_why, kept)

    # -- the writer thread: every POST happens there, so a slow or silent server never holds a cycle ----------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._work:
                    self._wake.wait()
                if self._closed:
                    return
                self._work = False
            try:
                self._round()
            except Exception as exc:  # a bug or a full disk: say it, and keep the points where they can wait
                log.error("influx %s: writer failed (%s: %s); points stay spooled", self.url, type(exc).__name__, exc)
                with self._lock:
                    self._inflight = False
                    self._spill()
            with self._lock:
                if not self._work:
                    self._idle.set()

    def _round(self) -> None:
        """Replay the spool oldest first (one attempt each), then post what ``write`` handed over; at the first
        batch that cannot go, everything not yet sent is spooled, in order."""
        with self._lock:
            spooled = self.spool.batches()
        for batch in spooled:
            with self._lock:
                lines = self.spool.read(batch)
            if lines is None:  # dropped meanwhile by the spool's bound (and counted there)
                continue
            outcome = self._post(lines, 1)
            with self._lock:
                if self._closed:
                    return
                if outcome == "ok":
                    self.spool.remove(batch, len(lines))
                    self.written += len(lines)
                elif outcome == "rejected":
                    self._set_aside(lines, batch)
                else:
                    self._spill()
                    return
        while True:
            with self._lock:
                if not self._queue or self._closed:
                    return
                lines, self._inflight = self._queue[0], True
            outcome = self._post(lines, self.attempts)
            with self._lock:
                self._inflight = False
                if self._closed:  # close() gave up waiting and spooled the queue, this batch included
                    return
                self._queue.popleft()
                if outcome == "ok":
                    self.written += len(lines)
                elif outcome == "rejected":
                    self._set_aside(lines)
                else:
                    self.spool.push(lines)
                    self._spill()
                    return

    def _spill(self) -> None:
        """Move the batches not in flight from the queue to the spool, oldest first (call with the lock held)."""
        keep = 1 if self._inflight else 0
        while len(self._queue) > keep:
            batch = self._queue[keep]
            del self._queue[keep]
            self.spool.push(batch)

    def write(self, samples: list[Sample]) -> None:
        """Hand the cycle's points to the writer thread. While the server answers, wait until they are posted
        (at most ``WAIT_S``); while it fails, or is still busy with an earlier cycle, spool them at once
        (durable, in order) and return: the cycle goes on, the thread replays them when the server is back."""
        lines = self.encoder.lines(samples)
        batches = [lines[i:i + self.batch_points] for i in range(0, len(lines), self.batch_points)]
        with self._lock:
            healthy = self._why is None and self._idle.is_set() and not self.spool.depth()
            if healthy:
                self._queue.extend(batches)
            else:
                self._spill()
                for batch in batches:
                    self.spool.push(batch)
            self._work = True
            self._idle.clear()
            self._wake.notify()
        if healthy:
            self._idle.wait(self.wait_s)
        with self._lock:
            dropped, why = self.spool.dropped_points, self.spool.error
        if dropped > self._reported_drops:
            cause = f"cannot spool to {self.spool.folder} ({why})" if why else "spool over its bound"
            log.error("influx %s: %s, %d points dropped so far", self.url, cause, dropped)
            self._reported_drops = dropped

    def close(self) -> None:
        """One last round (at most the request timeout); what is still unsent is spooled, on disk for the next
        run."""
        with self._lock:
            self._work = True
            self._idle.clear()
            self._wake.notify()
        self._idle.wait(self.timeout_s)
        with self._lock:
            self._inflight = False  # a POST still hanging is spooled too: a duplicate beats a loss
            self._spill()
            self._closed = self._work = True
            self._wake.notify()
        self._thread.join(0.5)
        self.spool.close()
        self.api.close()  # type: ignore[no-untyped-call]
        self.client.close()  # type: ignore[no-untyped-call]

    def health(self) -> dict[str, int]:
        with self._lock:
            return {"written": self.written, "spool_points": self.spool.depth(),
                    "spool_dropped": self.spool.dropped_points, "spool_rejected": self.rejected,
                    "failed_posts": self.failed_posts}


def check_url(url: str, source: str) -> None:
    """An InfluxDB URL is ``http://`` or ``https://`` with a host (and a valid port, if any); anything else is a
    ``SinkError`` naming ``source`` (the flag or the variable it came from), raised before any cycle runs."""
    shown = redact(url)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise SinkError(f"{source} {shown!r}: not a URL ({exc}); use http(s)://HOST[:PORT]") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SinkError(f"{source} {shown!r}: not an http(s) URL with a host; use http(s)://HOST[:PORT]")
    del port


def redact(url: str) -> str:
    """The URL without the user and password it may carry (``http://u:p@host`` -> ``http://***@host``)."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def default_spool(env: Mapping[str, str]) -> Path:
    """The spool under the user's state dir (XDG Base Directory): it must survive a reboot, which /tmp may not,
    and must not be shared with other users."""
    state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(state) / "fabric" / "collect-spool"


def _reason(exc: Any) -> str:
    """``HTTP 400: unable to parse 'x=1i 2': ...`` (the server's own message, one line, shortened), or the
    exception's type for a connection that failed (``NewConnectionError``, ``ReadTimeoutError``)."""
    status = getattr(exc, "status", None)
    if not status:
        return type(exc).__name__
    said = " ".join(str(getattr(exc, "message", "") or "").split())
    return f"HTTP {status}" + (f": {said[:200]}" if said else "")

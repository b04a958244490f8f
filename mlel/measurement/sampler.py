"""Background power sampling, streamed CSV logs, and measurement windows.

A :class:`Sampler` reads every meter each ``interval_s`` on a daemon thread and appends one row
per meter to ``<log_dir>/<meter>.csv`` (``:`` in meter names becomes ``_``)::

    timestamp_s,elapsed_s,power_w,energy_j[,extras...]

``energy_j`` is cumulative since the sampler started; ``power_w`` is the reading for power
meters and the mean since the previous row for counters (empty on the first row). Files are
flushed at least once a second, so a killed process keeps its log up to about a second
before the kill.

Windows (:meth:`Sampler.window`, or :meth:`Sampler.begin` / :meth:`Sampler.end`) read every
meter *at both edges*, so a window's energy is the integral over exactly ``[begin, end]``:

* counters (RAPL, NVML total energy): counter at end minus counter at begin;
* sampled power: trapezoid rule between consecutive readings, edges included;
* interval-mean power (CPU load estimate): each reading times the interval it closes.

Timing uses a timed lock wait on a fixed schedule (no drift, immediate stop), and a sample
costs tens of microseconds: no pandas, no psutil objects, one ``pread`` per /proc file, and
log rows are formatted in batches at flush time. ``bench/monitoring_overhead.py`` measures it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

from mlel.errors import UserInputError
from mlel.measurement.base import Meter, Reading
from mlel.measurement.records import Measurement, MeterEnergy

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 1.0
CSV_COLUMNS = ("timestamp_s", "elapsed_s", "power_w", "energy_j")


def log_file_name(meter_name: str) -> str:
    """File name of a meter's power log, e.g. "estimate:cpu" -> "estimate_cpu.csv"."""
    return meter_name.replace(":", "_").replace("/", "_") + ".csv"


class _Track:
    """Mutable per-meter state; only touched while holding the sampler's lock."""

    __slots__ = ("meter", "file", "pending", "last_t", "last_power_w", "last_energy_j", "counter0_j", "energy_j", "samples", "failures")

    def __init__(self, meter: Meter):
        self.meter = meter
        self.file = None
        self.pending: list[tuple] = []  # rows not yet formatted and written (see Sampler._flush)
        self.last_t: float | None = None
        self.last_power_w: float | None = None
        self.last_energy_j: float | None = None
        self.counter0_j: float | None = None
        self.energy_j = 0.0
        self.samples = 0
        self.failures = 0


class WindowToken(NamedTuple):
    """What :meth:`Sampler.begin` remembers; pass it to :meth:`Sampler.end`."""

    t: float
    energy_j: tuple[float, ...]
    samples: tuple[int, ...]   # successful reads per meter before the window's first read
    failures: tuple[int, ...] = ()  # failed reads per meter before it


class Window:
    """A measurement window opened by :meth:`Sampler.window`; ``result`` is set when it closes."""

    def __init__(self, begin_elapsed_s: float):
        self.begin_elapsed_s = begin_elapsed_s
        self.end_elapsed_s: float | None = None
        self._result: Measurement | None = None

    @property
    def result(self) -> Measurement:
        if self._result is None:
            raise RuntimeError("the measurement window is still open; read .result after the with-block")
        return self._result


class Sampler:
    """Samples ``meters`` every ``interval_s`` seconds on a background thread.

    Use as a context manager (``with Sampler(meters, 0.1, log_dir) as s:``) or call
    :meth:`start` / :meth:`stop`. ``clock`` (monotonic seconds) exists so tests can drive a
    sampler with ``start(background=False)`` and explicit :meth:`sample` calls.
    """

    def __init__(self, meters: Sequence[Meter], interval_s: float = 0.5, log_dir: Path | str | None = None, clock: Callable[[], float] = time.monotonic):
        self.meters = list(meters)
        self.interval_s = interval_s
        self.log_dir = log_dir
        self.clock = clock
        self._tracks: list[_Track] = []
        self._lock = threading.Lock()
        # Held while the thread runs; stop() releases it. The thread waits with
        # lock.acquire(timeout), the primitive Event.wait is built on, without Condition's
        # Python-level bookkeeping: measured ~45 us instead of ~85 us per wake-up here.
        self._running = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = False
        self._t0 = 0.0
        self._wall0 = 0.0
        self._last_flush_t = 0.0
        self._idle_power_w: dict[str, float] = {}
        self._period_s = interval_s  # interval_s, or less where a counter must be read more often
        self._thread_errors = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, background: bool = True) -> "Sampler":
        if self._started:
            raise RuntimeError("this Sampler is already running")
        if isinstance(self.interval_s, bool) or not isinstance(self.interval_s, (int, float)) or not (0 < self.interval_s <= 3600):
            raise UserInputError(f"The 'interval_s' parameter must be a number of seconds in (0, 3600]; got {self.interval_s!r}")
        names = [m.name for m in self.meters]
        if len(set(names)) != len(names):
            raise ValueError(f"meter names must be unique; got {names}")
        log_dir = Path(self.log_dir) if self.log_dir is not None else None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
        opened: list[Meter] = []
        self._tracks = []
        try:
            for meter in self.meters:
                meter.open()
                opened.append(meter)
                track = _Track(meter)
                if log_dir is not None:
                    track.file = open(log_dir / log_file_name(meter.name), "w", encoding="utf-8", newline="")
                    track.file.write(",".join(CSV_COLUMNS + tuple(meter.extra_fields)) + "\n")
                self._tracks.append(track)
        except BaseException:
            for meter in opened:
                meter.close()
            self._close_files()
            self._tracks = []
            raise
        self._period_s = self._read_period_s()
        self._thread_errors = 0
        self._wall0, self._t0 = time.time(), self.clock()
        self._last_flush_t = self._t0
        self._started = True
        self.sample()
        self._flush()
        if background:
            self._running.acquire()
            self._thread = threading.Thread(target=self._run, name="mlel-sampler", daemon=True)
            self._thread.start()
        logger.debug("sampling %s every %g s%s", ", ".join(m.name for m in self.meters), self.interval_s, f" into {log_dir}" if log_dir else "")
        return self

    def _read_period_s(self) -> float:
        """``interval_s``, or shorter where a counter could wrap twice between reads (opened meters)."""
        limits = [(m.max_read_interval_s, m.name) for m in self.meters if m.max_read_interval_s]
        if not limits:
            return self.interval_s
        limit, name = min(limits)
        if limit >= self.interval_s:
            return self.interval_s
        logger.warning("reading the meters every %.3g s, not every %g s: the counter of %s could wrap twice "
                       "in between and lose energy", limit, self.interval_s, name)
        return limit

    def stop(self) -> None:
        if not self._started:
            return
        try:
            if self._thread is not None:
                self._running.release()
                self._thread.join()
                self._thread = None
            self.sample()  # the log ends at stop, not up to one interval earlier
        finally:
            with self._lock:  # whatever failed above, the meters are released (NVML shut down)
                try:
                    self._close_files()
                finally:
                    for track in self._tracks:
                        try:
                            track.meter.close()
                        except Exception as exc:  # noqa: BLE001 - close the others regardless
                            logger.warning("meter %s did not close cleanly: %s", track.meter.name, exc)
                    self._started = False

    def __enter__(self) -> "Sampler":
        return self if self._started else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        period_s = self._period_s
        next_t = self.clock() + period_s
        while not self._running.acquire(timeout=max(0.0, next_t - self.clock())):
            try:
                self.sample()
            except Exception as exc:  # noqa: BLE001 - a full disk must not end the sampling of the run
                self._thread_errors += 1
                if self._thread_errors == 1:
                    logger.warning("power sampling hit an error and goes on (%s: %s); the power log may lack rows",
                                   type(exc).__name__, exc)
            next_t += period_s
            now = self.clock()
            if next_t < now:  # fell behind (suspended, overloaded): skip, do not burst
                next_t = now + period_s
        self._running.release()  # acquired by the stop signal; leave it free for a restart

    # -- sampling -------------------------------------------------------------------------
    @property
    def log_paths(self) -> dict[str, Path]:
        """Power-log file per meter name (empty without ``log_dir``)."""
        if self.log_dir is None:
            return {}
        return {m.name: Path(self.log_dir) / log_file_name(m.name) for m in self.meters}

    def elapsed_s(self) -> float:
        return self.clock() - self._t0

    def sample(self) -> float:
        """Read every meter now, integrate, append to the logs; returns the clock time."""
        if not self._started:
            raise RuntimeError("the Sampler is not running; use `with Sampler(...)` or call start()")
        with self._lock:
            return self._sample_locked()

    def _sample_locked(self) -> float:
        t = self.clock()
        for track in self._tracks:
            try:
                reading = track.meter.read()
            except Exception as exc:  # noqa: BLE001 - one broken meter must not stop the others
                track.failures += 1
                if track.failures == 1:
                    logger.warning("meter %s failed to read (%s); its energy will miss these samples", track.meter.name, exc)
                continue
            t = self.clock()
            self._record(track, t, reading)
        if t - self._last_flush_t + self._period_s > FLUSH_EVERY_S:
            self._flush()
            self._last_flush_t = t
        return t

    def _record(self, track: _Track, t: float, reading: Reading) -> None:
        power_w = reading.power_w
        if track.meter.is_counter:
            energy = reading.energy_j
            if track.counter0_j is None:
                track.counter0_j = energy
                power_w = None
            else:
                dt = t - track.last_t
                power_w = (energy - track.last_energy_j) / dt if dt > 0 else None
            track.last_energy_j = energy
            track.energy_j = energy - track.counter0_j
        elif track.last_t is not None and power_w is not None:
            dt = t - track.last_t
            if track.meter.power_is_interval_mean:
                track.energy_j += power_w * dt
            else:
                track.energy_j += 0.5 * (power_w + track.last_power_w) * dt
        track.last_t = t
        track.last_power_w = power_w
        track.samples += 1
        if track.file is not None:
            track.pending.append((t, power_w, track.energy_j, reading.extras))

    def _flush(self) -> None:
        """Format and write the pending rows, then flush. Rows are formatted here, in a batch,
        rather than one by one in each sample: a lone sample runs with cold caches and costs
        several times more per row."""
        wall_offset = self._wall0 - self._t0
        for track in self._tracks:
            if track.file is None or not track.pending:
                continue
            lines = []
            for t, power_w, energy_j, extras in track.pending:
                row = f"{wall_offset + t:.6f},{t - self._t0:.6f},{'' if power_w is None else format(power_w, '.6f')},{energy_j:.6f}"
                if extras:
                    row += "," + ",".join("" if v is None else str(v) for v in extras)
                lines.append(row)
            track.pending.clear()
            track.file.write("\n".join(lines) + "\n")
            track.file.flush()

    def _close_files(self) -> None:
        self._flush()
        for track in self._tracks:
            if track.file is not None:
                track.file.close()
                track.file = None

    # -- windows --------------------------------------------------------------------------
    def begin(self) -> WindowToken:
        """Open a window: read every meter now."""
        if not self._started:
            raise RuntimeError("the Sampler is not running; use `with Sampler(...)` or call start()")
        with self._lock:  # sample and snapshot atomically: the thread must not sample in between
            before = [(tr.samples, tr.failures) for tr in self._tracks]
            t = self._sample_locked()
            return WindowToken(t, tuple(tr.energy_j for tr in self._tracks), tuple(n for n, _ in before),
                               tuple(f for _, f in before))

    def end(self, token: WindowToken) -> Measurement:
        """Close the window opened by ``token``: read every meter now and return its energy."""
        if not self._started:
            raise RuntimeError("the Sampler is not running; use `with Sampler(...)` or call start()")
        with self._lock:
            t = self._sample_locked()
            self._flush()
            self._last_flush_t = t
            duration_s = t - token.t
            meters = []
            failures0 = token.failures or (0,) * len(self._tracks)
            for track, energy0, samples0, failed0 in zip(self._tracks, token.energy_j, token.samples, failures0):
                energy_j = track.energy_j - energy0
                idle_w = self._idle_power_w.get(track.meter.name)
                samples, failed = track.samples - samples0, track.failures - failed0
                if failed:
                    logger.warning("meter %s failed %d of %d reads in this window; its energy misses that time",
                                   track.meter.name, failed, samples + failed)
                meters.append(
                    MeterEnergy(
                        meter=track.meter.name,
                        component=track.meter.component,
                        energy_j=energy_j,
                        provenance=track.meter.provenance,
                        samples=samples,
                        method=track.meter.method,
                        idle_power_w=idle_w,
                        net_energy_j=None if idle_w is None else energy_j - idle_w * duration_s,
                        failed_reads=failed,
                    )
                )
        return Measurement(duration_s=duration_s, meters=tuple(meters))

    @contextlib.contextmanager
    def window(self, synchronize: Callable[[], object] | None = None) -> Iterator[Window]:
        """``with sampler.window(torch.cuda.synchronize) as w: ...`` then ``w.result``.

        ``synchronize`` runs before each edge so queued GPU work lands inside the window.
        The window is closed (and ``result`` set) even when the block raises.
        """
        if synchronize is not None:
            synchronize()
        token = self.begin()
        window = Window(token.t - self._t0)
        try:
            yield window
        finally:
            if synchronize is not None:
                synchronize()
            window._result = self.end(token)
            window.end_elapsed_s = self.elapsed_s()

    # -- idle baseline --------------------------------------------------------------------
    @property
    def idle_power_w(self) -> Mapping[str, float]:
        """Idle power per meter from :meth:`measure_baseline` (empty before it)."""
        return dict(self._idle_power_w)

    def measure_baseline(self, seconds: float) -> Measurement | None:
        """Measure idle power for ``seconds``; later windows report net energy beside gross.

        Returns the baseline window (``None`` for 0 s, which leaves net energy unset).
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
            raise UserInputError(f"The 'baseline_s' parameter must be a number of seconds >= 0; got {seconds!r}")
        if seconds == 0:
            return None
        logger.info("measuring idle power for %g s (keep the machine otherwise idle)", seconds)
        token = self.begin()
        threading.Event().wait(seconds)
        baseline = self.end(token)
        if baseline.duration_s > 0:
            self._idle_power_w = {m.meter: m.energy_j / baseline.duration_s for m in baseline.meters}
        logger.info("idle power: %s", ", ".join(f"{k} {v:.2f} W" for k, v in self._idle_power_w.items()))
        return baseline

"""``bastion watch``: learn a system's normal behaviour from its logs, then raise explained alerts."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console
from bastion.detect.ingest.records import (
    FormatSpec,
    ReadStats,
    Record,
    format_from_spec,
    read_lines,
    read_records,
    resolve_format,
)
from bastion.detect.ingest.sources import SyslogListener, follow
from bastion.detect.logs.registry import CHOICES as MODEL_CHOICES
from bastion.detect.logs.templates import TemplateMiner, event_text, load_state, mask_line, save_state
from bastion.errors import InputError, UsageError

if TYPE_CHECKING:
    from bastion.detect.logs.pipeline import Detector
    from bastion.detect.sigma.tap import SigmaTap
    from bastion.detect.sinks import AlertSink
    from bastion.findings import Alert

# numpy, scikit-learn and the models load inside the commands that need them (features,
# alerts, pipeline): `bastion scan` and `bastion --help` never pay for them.

__all__ = ["register"]

watch_app = typer.Typer(
    help="Learn normal behaviour from logs and raise explained anomaly alerts.\n\n"
    "Example: bastion watch train /var/log/auth.log --model ranges -o auth.bastion",
    no_args_is_help=True,
)

LOGS = typer.Argument(..., help="Log files, .gz files, directories, or - for stdin.")
LOG_FORMAT = typer.Option("auto", "--log-format", help="auto, syslog, combined, json, raw or regex.")
REGEX = typer.Option(None, "--regex", help="User format: a regex with a (?P<message>...) group.")
FORMATS = typer.Option(
    None, "--formats", help="TOML file of user formats (\\[formats.NAME] regex=... or json={...})."
)
SESSION = typer.Option(
    "auto",
    "--session",
    help="Session key: auto (chosen from the parsed lines, and reported), block, host, ip, user, program, "
    "pid, none, a field, or re:PATTERN.",
)
WINDOW = typer.Option(0.0, "--window", help="Time window in seconds (0: sessions per key only).")
STEP = typer.Option(0.0, "--step", help="Sliding step in seconds (0: fixed windows).")
RATE_WINDOW = typer.Option(
    0.0,
    "--rate-window",
    help="Length in seconds of the time windows judged for new errors, bursts, silences, quiet components "
    "and reordering (0: chosen from the training data).",
)


def register(app: typer.Typer) -> None:
    """Add the ``watch`` command group to ``app``."""
    watch_app.command(
        "templates",
        help="Mine log templates and show them with counts.\n\n"
        "Example: bastion watch templates /var/log/syslog --format json --state templates.json",
    )(command(templates))
    watch_app.command(
        "train",
        help="Learn normal behaviour from logs of normal operation and write a model file.\n\n"
        "Example: bastion watch train hdfs.log --session block --model ranges -o hdfs.bastion",
    )(command(train_cmd))
    watch_app.command(
        "detect",
        help="Judge logs with a trained model; exit 1 when there are alerts.\n\n"
        "Example: bastion watch detect today.log --model hdfs.bastion --format jsonl",
    )(command(detect))
    watch_app.command(
        "run",
        help="Learn a baseline from the first lines of a live source, then detect online.\n\n"
        "Example: bastion watch run /var/log/auth.log --baseline-lines 50000 --session user",
    )(command(run))
    app.add_typer(watch_app, name="watch")


YEAR = typer.Option(
    None, "--year", help="Year of time stamps that carry none (default: this year, never in the future)."
)


def _records(lines: Iterable[tuple[str, int, str]], spec: FormatSpec) -> Iterator[Record]:
    """Records of ``lines`` in the format ``spec`` names (``auto``: detected from the first lines)."""
    year = spec.get("year")
    return read_records(lines, format_from_spec(spec), year=int(year) if year else None)


def _with_year(spec: FormatSpec, year: int | None) -> FormatSpec:
    if year is not None:
        if not 1970 <= year <= 9999:
            raise UsageError(f"--year {year} is out of range (1970..9999)")
        spec = {**spec, "year": str(year)}
    return spec


def templates(
    logs: list[Path] = LOGS,
    fmt: str = typer.Option("table", "--format", help="table or json."),
    per_line: bool = typer.Option(
        False, "--per-line", help="JSON lines: line number, template id, template."
    ),
    state: Path | None = typer.Option(None, "--state", help="Load and save the miner state (JSON) here."),
    log_format: str = LOG_FORMAT,
    regex: str | None = REGEX,
    formats: Path | None = FORMATS,
    year: int | None = YEAR,
) -> int:
    """Mine templates from LOGS."""
    if fmt not in ("table", "json"):
        raise UsageError(f"unknown --format {fmt!r} (choose from table, json)")
    miner = load_state(state) if state is not None and state.exists() else TemplateMiner()
    out = sys.stdout
    lines = 0
    stats = ReadStats()
    for record in _records(
        read_lines(logs, stats), _with_year(resolve_format(log_format, regex, formats), year)
    ):
        lines += 1
        tokens = mask_line(record.message)
        template = miner.add_tokens(tokens, record.message)
        if per_line:
            item = {
                "source": record.source,
                "line": record.line_no,
                "template_id": miner.event_id(template, tokens),
                "template": event_text(template, tokens),
            }
            out.write(json.dumps(item) + "\n")
    if state is not None:
        save_state(miner, state)
    if not per_line:
        ordered = sorted(miner.templates.values(), key=lambda t: -t.count)
        if fmt == "json":
            data = [
                {"id": t.id, "count": t.count, "template": t.text, "example": t.examples[:1]} for t in ordered
            ]
            out.write(json.dumps({"lines": lines, "templates": data}, indent=2) + "\n")
        else:
            out.write(f"{'id':>6}  {'count':>8}  template\n")
            for t in ordered:
                out.write(f"{t.id:>6}  {t.count:>8}  {t.text}\n")
            out.write(f"{len(ordered)} template(s) from {lines} line(s)\n")
    _notes(stats)
    return EXIT_CLEAN


def _notes(stats: ReadStats) -> None:
    """Print what reading had to do to the input (cut lines), one note per file."""
    for note in stats.notes():
        error_console().print(f"note: {note}", markup=False, highlight=False)


def train_cmd(
    logs: list[Path] = LOGS,
    model: str = typer.Option("ranges", "--model", help=f"{MODEL_CHOICES}."),
    output: Path = typer.Option(..., "--output", "-o", help="Model file to write."),
    session: str = SESSION,
    window: float = WINDOW,
    step: float = STEP,
    log_format: str = LOG_FORMAT,
    regex: str | None = REGEX,
    formats: Path | None = FORMATS,
    year: int | None = YEAR,
    rate_window: float = RATE_WINDOW,
) -> int:
    """Train a model on LOGS (normal operation only)."""
    from bastion.detect.logs.features import SessionKey
    from bastion.detect.logs.pipeline import train

    if rate_window < 0:
        raise UsageError("--rate-window must be 0 (automatic) or positive")
    key = SessionKey(session, window, step)
    spec = _with_year(resolve_format(log_format, regex, formats), year)
    stats = ReadStats()
    detector, summary = train(
        _records(read_lines(logs, stats), spec), model, key, log_format=spec, rate_window=rate_window
    )
    detector.save(output)
    _notes(stats)
    if summary.session_note:
        error_console().print(summary.session_note, markup=False, highlight=False)
    error_console().print(
        f"trained {model} on {summary.sessions} session(s) from {summary.lines} line(s), "
        f"{summary.templates} template(s); threshold {summary.threshold:.4g}; "
        + (
            f"time windows of {summary.rate_window:g} s; "
            if summary.rate_window
            else "no time-window layer (no time stamps, or under 6 windows); "
        )
        + f"wrote {output}"
    )
    return EXIT_CLEAN


def _emit(
    detector: Detector,
    lines: Iterator[tuple[str, int, str]],
    spec: FormatSpec,
    fmt: str,
    webhook: str | None,
    output: Path | None,
    ordered: bool = False,
    plot: Path | None = None,
    sigma: SigmaTap | None = None,
) -> int:
    """Judge ``lines`` and write the alerts; ``ordered`` (finite input) writes them by severity and
    score, highest first, once all are known, and the ``-o`` file whole or not at all; then a
    summary on stderr."""
    from bastion.detect.sinks import AlertFormat, alert_output, open_sinks

    alert_format = AlertFormat.parse(fmt)
    alerts: list[Alert] = []
    with alert_output(output, streaming=not ordered) as stream:
        sinks = open_sinks(alert_format, stream, webhook)
        if sigma is not None:  # Sigma rules on the same lines: their alerts join the models'
            sigma.deliver_to(lambda a: _keep(alerts, sinks, a, ordered))
        try:
            for alert in detector.detect(_records(lines, spec)):
                if not ordered:
                    _send(sinks, alert)
                alerts.append(alert)
            if ordered:
                alerts.sort(key=lambda a: (a.severity.rank, a.score), reverse=True)
                for alert in alerts:
                    _send(sinks, alert)
        finally:
            for sink in sinks:
                sink.close()
    read, keyless = detector.last_stats
    if keyless:
        error_console().print(
            f"note: {keyless} of {read} line(s) had no session key ({detector.key.by!r}) and were not judged"
        )
    error_console().print(_summary(detector, alerts), markup=False, highlight=False)
    if sigma is not None:
        error_console().print(sigma.summary(), markup=False, highlight=False)
    if plot is not None:
        _plot(detector, alerts, plot)
    return EXIT_FINDINGS if alerts else EXIT_CLEAN


def _plot(detector: Detector, alerts: list[Alert], plot: Path) -> None:
    from bastion.detect.logs.plot import write_plot

    windows = detector.last_scorer.history if detector.last_scorer is not None else []
    try:
        write_plot(plot, windows, alerts, f"bastion watch: {len(windows)} window(s), {len(alerts)} alert(s)")
    except OSError as exc:
        raise InputError(f"{plot}: cannot write the plot ({exc.strerror or exc})") from None
    note = "" if windows else " (no time windows: the model has no time-window layer)"
    error_console().print(f"plot: wrote {plot}{note}", markup=False, highlight=False)


def _send(sinks: list[AlertSink], alert: Alert) -> None:
    for sink in sinks:
        sink.emit(alert)


SIGMA_RULES = typer.Option(
    [], "--sigma-rules", help="Also run these Sigma rule files or folders on the same lines; repeatable."
)


def _keep(alerts: list[Alert], sinks: list[AlertSink], alert: Alert, ordered: bool) -> None:
    alerts.append(alert)
    if not ordered:
        _send(sinks, alert)


def _sigma_tap(rules: list[Path]) -> SigmaTap | None:
    from bastion.detect.sigma.tap import SigmaTap

    return SigmaTap(rules) if rules else None


def _tapped(lines: Iterator[tuple[str, int, str]], sigma: SigmaTap | None) -> Iterator[tuple[str, int, str]]:
    return sigma.lines(lines) if sigma is not None else lines


def _summary(detector: Detector, alerts: list[Alert]) -> str:
    """Windows scored, alerts by severity and by ATT&CK technique, the top entities."""
    from collections import Counter

    read, _ = detector.last_stats
    by_severity = Counter(a.severity.value for a in alerts)
    grades = ", ".join(
        f"{by_severity[s]} {s}" for s in ("critical", "high", "medium", "low") if by_severity[s]
    )
    techniques = Counter(t for a in alerts for t in a.techniques)
    kinds = Counter(str(a.metadata.get("kind", "session")) for a in alerts)
    entities = Counter(f"{a.entity_kind} {a.entity}" for a in alerts).most_common(5)
    parts = [
        f"summary: {detector.last_sessions} session(s)"
        + (f" and {detector.last_scorer.scored} time window(s)" if detector.last_scorer is not None else "")
        + f" scored from {read} line(s) "
        f"(session key {detector.key.by!r}); {len(alerts)} alert(s){': ' + grades if grades else ''}"
    ]
    if alerts:
        parts.append("by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    if techniques:
        parts.append("ATT&CK " + ", ".join(f"{t} x{n}" for t, n in techniques.most_common()))
    if entities:
        parts.append("top entities: " + ", ".join(f"{e} ({n})" for e, n in entities))
    return "; ".join(parts)


def detect(
    logs: list[Path] = LOGS,
    model: Path = typer.Option(..., "--model", "-m", help="Model file from `bastion watch train`."),
    fmt: str = typer.Option("table", "--format", help="table or jsonl."),
    webhook: str | None = typer.Option(None, "--webhook", help="Also POST each alert as JSON to this URL."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write alerts to FILE."),
    follow_file: bool = typer.Option(False, "--follow", help="Keep reading the (single) file as it grows."),
    idle_timeout: float | None = typer.Option(None, "--idle-timeout", help="Stop after N idle seconds."),
    log_format: str | None = typer.Option(None, "--log-format", help="Default: the format used in training."),
    regex: str | None = REGEX,
    formats: Path | None = FORMATS,
    year: int | None = YEAR,
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Also draw the window score over time with alerts marked: FILE.png, .svg or .html.",
    ),
    sigma_rules: list[Path] = SIGMA_RULES,
) -> int:
    """Judge LOGS with a trained model."""
    from bastion.detect.logs.pipeline import load_detector

    if plot is not None:
        from bastion.detect.logs.plot import check_plot_path

        check_plot_path(plot)
    detector = load_detector(model)
    spec = _with_year(
        resolve_format(log_format or "auto", regex, formats) if log_format or regex else detector.log_format,
        year,
    )
    sigma = _sigma_tap(sigma_rules)
    if follow_file:
        if len(logs) != 1 or not logs[0].is_file():
            raise UsageError("--follow needs exactly one file")
        lines: Iterator[tuple[str, int, str]] = follow(logs[0], idle_timeout=idle_timeout)
    else:
        lines = read_lines(logs, stats := ReadStats())
        try:
            return _emit(detector, _tapped(lines, sigma), spec, fmt, webhook, output, True, plot, sigma)
        finally:
            _notes(stats)
    return _emit(detector, _tapped(lines, sigma), spec, fmt, webhook, output, plot=plot, sigma=sigma)


def _take_baseline(
    lines: Iterator[tuple[str, int, str]], count: int, seconds: float | None
) -> list[tuple[str, int, str]]:
    """The first ``count`` lines, or fewer when ``seconds`` passed first."""
    deadline = time.monotonic() + seconds if seconds is not None else None
    baseline: list[tuple[str, int, str]] = []
    for item in lines:
        baseline.append(item)
        if len(baseline) >= count or (deadline is not None and time.monotonic() >= deadline):
            break
    return baseline


def run(
    source: str | None = typer.Argument(
        None, help="A log file (followed), or syslog://HOST:PORT to listen (none with --consumer)."
    ),
    model: str = typer.Option("ranges", "--model", help=f"Baseline model: {MODEL_CHOICES}."),
    baseline_lines: int = typer.Option(10_000, "--baseline-lines", help="Lines to learn from first."),
    baseline_seconds: float | None = typer.Option(
        None, "--baseline-seconds", help="Or stop learning at the first line after N seconds."
    ),
    save: Path | None = typer.Option(None, "--save", help="Also write the learned model file."),
    session: str = SESSION,
    window: float = WINDOW,
    step: float = STEP,
    fmt: str = typer.Option("table", "--format", help="table or jsonl."),
    webhook: str | None = typer.Option(None, "--webhook", help="Also POST each alert as JSON to this URL."),
    idle_timeout: float | None = typer.Option(None, "--idle-timeout", help="Stop after N idle seconds."),
    queue_size: int = typer.Option(10_000, "--queue-size", help="Listener queue bound."),
    log_format: str = LOG_FORMAT,
    regex: str | None = REGEX,
    formats: Path | None = FORMATS,
    year: int | None = YEAR,
    sigma_rules: list[Path] = SIGMA_RULES,
    stream: str | None = typer.Option(
        None,
        "--stream",
        help="Broker URL (redis:// or nats://): publish SOURCE's records to the log stream, or consume "
        "it with --consumer.",
    ),
    consumer: str | None = typer.Option(
        None, "--consumer", help="With --stream: detect as member INDEX/COUNT of the detector group (0/2)."
    ),
    model_file: Path | None = typer.Option(
        None,
        "--model-file",
        help="With --stream: a model from `bastion watch train` (its session key partitions the stream).",
    ),
) -> int:
    """Learn then detect on a live source."""
    from bastion.detect.logs.features import SessionKey
    from bastion.detect.logs.pipeline import train

    if stream is not None:
        return _run_stream(
            stream, consumer, model_file, source, fmt, webhook, idle_timeout, log_format, regex, formats, year
        )
    if consumer is not None or model_file is not None:
        raise UsageError("--consumer and --model-file go with --stream URL")
    if source is None:
        raise UsageError("give SOURCE (a log file or syslog://HOST:PORT), or --stream URL --consumer I/N")
    if baseline_lines < 1:
        raise UsageError("--baseline-lines must be at least 1")
    spec = _with_year(resolve_format(log_format, regex, formats), year)
    stop = threading.Event()
    lines, listener = _source_lines(source, stop, idle_timeout, queue_size)
    sigma = _sigma_tap(sigma_rules)
    lines = _tapped(lines, sigma)  # Sigma sees the baseline lines too
    try:
        baseline = _take_baseline(lines, baseline_lines, baseline_seconds)
        if not baseline:
            raise InputError(f"{source}: no line arrived to learn a baseline from")
        key = SessionKey(session, window, step)
        detector, summary = train(_records(iter(baseline), spec), model, key, log_format=spec)
        error_console().print(
            f"baseline: {summary.sessions} session(s), {summary.templates} template(s) from "
            f"{summary.lines} line(s); detecting"
        )
        if summary.session_note:
            error_console().print(summary.session_note, markup=False, highlight=False)
        if save is not None:
            detector.save(save)
        return _emit(detector, lines, spec, fmt, webhook, None, sigma=sigma)
    finally:
        stop.set()
        if listener is not None:
            listener.close()
            if listener.dropped:
                error_console().print(
                    f"syslog listener dropped {listener.dropped} of {listener.received} "
                    "message(s) (queue full)"
                )


def _source_lines(
    source: str, stop: threading.Event, idle_timeout: float | None, queue_size: int = 10_000
) -> tuple[Iterator[tuple[str, int, str]], SyslogListener | None]:
    """The lines of SOURCE: a followed file, or a syslog listener (returned, to be closed)."""
    if source.startswith("syslog://"):
        host, _, port = source[len("syslog://") :].rpartition(":")
        if not port.isdigit():
            raise UsageError(f"{source}: expected syslog://HOST:PORT")
        listener = SyslogListener(host or "127.0.0.1", int(port), queue_size).start()
        error_console().print(f"listening for syslog on {listener.host}:{listener.port} (UDP and TCP)")
        return listener.lines(stop, idle_timeout), listener
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    return follow(path, stop, idle_timeout=idle_timeout), None


def _run_stream(
    url: str,
    consumer: str | None,
    model_file: Path | None,
    source: str | None,
    fmt: str,
    webhook: str | None,
    idle_timeout: float | None,
    log_format: str,
    regex: str | None,
    formats: Path | None,
    year: int | None,
) -> int:
    """``watch run --stream``: publish SOURCE's records, or (``--consumer``) detect on the stream."""
    from bastion.detect.logs.pipeline import load_detector
    from bastion.detect.sinks import AlertFormat, open_sinks
    from bastion.jobs.streaming import parse_consumer
    from bastion.jobs.watch_stream import WATCH_PREFIX, publish_records, run_watch_consumer
    from bastion.stream.connect import open_transport

    if model_file is None:
        raise UsageError("--stream needs --model-file (a model from `bastion watch train`)")
    member = parse_consumer(consumer) if consumer is not None else None
    if member is None and source is None:
        raise UsageError(
            "--stream without --consumer publishes SOURCE: give a log file or syslog://HOST:PORT"
        )
    if member is not None and source is not None:
        raise UsageError("--consumer reads the stream: give no SOURCE")
    detector = load_detector(model_file)
    transport = open_transport(url, WATCH_PREFIX)
    if source is not None:  # publish (with --consumer, SOURCE was refused above)
        spec = _with_year(
            resolve_format(log_format, regex, formats)
            if log_format != "auto" or regex
            else detector.log_format,
            year,
        )
        stop = threading.Event()
        lines, listener = _source_lines(source, stop, idle_timeout)
        try:
            result = publish_records(transport, detector, _records(lines, spec))
        finally:
            stop.set()
            if listener is not None:
                listener.close()
        error_console().print(
            f"published {result.accepted} log records ({result.dropped} dropped: partitions full)",
            markup=False,
            highlight=False,
        )
        return EXIT_CLEAN
    if member is None:  # neither SOURCE nor --consumer: refused above
        raise UsageError("--stream needs SOURCE to publish, or --consumer I/N")
    sinks = open_sinks(AlertFormat.parse(fmt), sys.stdout, webhook)
    count = 0

    def emit(alert: Alert) -> None:
        nonlocal count
        count += 1
        for sink in sinks:
            sink.emit(alert)

    index, size = member
    try:
        done = run_watch_consumer(transport, detector, index, size, emit, idle_timeout)
    finally:
        for sink in sinks:
            sink.close()
    stats = done.stats
    error_console().print(
        f"consumer {index}/{size}: {stats.events} records in {stats.batches} batches, {done.sessions} "
        f"session(s) judged, {count} alert(s) ({done.flushed} at the end, from sessions still open); "
        f"{stats.claimed} batches taken over from a dead consumer; time-window layer off on the stream",
        markup=False,
        highlight=False,
    )
    return EXIT_FINDINGS if count else EXIT_CLEAN

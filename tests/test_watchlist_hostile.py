"""Hostile watchlists get a WatchlistError with file:line:key, never a traceback; and
every command (check, watch, the board) refuses the same file with the same message."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gatewatch.cli import main
from gatewatch.cli.board import run_board
from gatewatch.monitor import check_watchlist, load_checked
from gatewatch.monitor.alerts import AlertConfig
from gatewatch.monitor.settings import rules_for
from gatewatch.monitor.sinks import sinks_from_config
from gatewatch.watchlist import Watchlist, WatchlistError, loads, save

BASE = textwrap.dedent(
    """\
    version = 1

    [defaults]
    interval = "30s"

    [alerts]
    command = "true"

    [[endpoint]]
    name = "shop"
    url = "http://127.0.0.1:9/health"
    """
)


def with_line(section: str, line: str, text: str = BASE) -> str:
    """``text`` with ``line`` added at the end of ``section`` ("top", "defaults", "alerts"
    or "endpoint")."""
    head = {"top": "[defaults]", "defaults": "[alerts]", "alerts": "[[endpoint]]"}.get(section)
    if section == "top":
        return text.replace("version = 1\n", f"version = 1\n{line}\n", 1)
    if head is None:
        return text + line + "\n"
    return text.replace(f"\n{head}", f"{line}\n\n{head}", 1)


def watch_setup(watchlist: Watchlist) -> None:
    """What `watch` and the board do with a loaded file before the first probe."""
    for endpoint in watchlist.endpoints:
        rules_for(endpoint)
    sinks_from_config(AlertConfig.from_mapping(watchlist.alerts))


# ------------------------------------------------------------------ the fuzzing crashes


@pytest.mark.parametrize(
    "value",
    [
        "{a=" * 331 + "1" + "}" * 331,  # RecursionError in tomllib
        "[" * 1000 + "]" * 1000,  # RecursionError in tomllib
        "9" * 400,  # OverflowError in the duration parser
        "9" * 5000,  # ValueError from int() inside tomllib
    ],
    ids=["tables-331", "arrays-1000", "int-400-digits", "int-5000-digits"],
)
def test_a_hostile_value_is_refused_with_its_line(value: str) -> None:
    text = with_line("endpoint", f"timeout = {value}")
    with pytest.raises(WatchlistError) as caught:
        loads(text, path="w.toml")
    assert caught.value.line == 12
    assert str(caught.value).startswith("w.toml:12: ")
    assert len(str(caught.value)) < 200


def test_deep_nesting_is_refused_at_any_depth_the_stack_allows() -> None:
    # 500 dotted keys: tomllib copes, copy.deepcopy in document.py raised RecursionError.
    for depth in (33, 100, 500, 990):
        with pytest.raises(WatchlistError, match="nested too deeply"):
            loads(with_line("top", "x." * depth + "y = 1"))


# ------------------------------------------------------------------ one validation


SETTINGS_CASES = [
    ("endpoint", "down_after = 0", 12, "endpoint[1] \"shop\" key 'down_after'"),
    ("endpoint", "flap_window = 1e300", 12, "endpoint[1] \"shop\" key 'flap_window'"),
    ("endpoint", "flap_window = " + "9" * 30, 12, "endpoint[1] \"shop\" key 'flap_window'"),
    ("endpoint", "slow_factor = nan", 12, "endpoint[1] \"shop\" key 'slow_factor'"),
    (
        "endpoint",
        'maintenance = "Sat 25:00-26:00 UTC"',
        12,
        "endpoint[1] \"shop\" key 'maintenance'",
    ),
    ("defaults", "up_after = -1", 5, "defaults key 'up_after'"),
    ("alerts", "webhook_retries = 11", 8, "key 'alerts.webhook_retries'"),
    ("alerts", 'webhook = "not a url"', 8, "key 'alerts.webhook'"),
    ("alerts", "command_timeout = 0", 8, "key 'alerts.command_timeout'"),
]


@pytest.mark.parametrize(("section", "line", "number", "where"), SETTINGS_CASES)
def test_monitor_settings_are_checked_at_load(
    section: str, line: str, number: int, where: str
) -> None:
    with pytest.raises(WatchlistError) as caught:
        check_watchlist(loads(with_line(section, line), path="w.toml"))
    assert str(caught.value).startswith(f"w.toml:{number}: {where}: ")


@pytest.mark.parametrize(
    ("section", "line", "number", "where"), SETTINGS_CASES[:1] + SETTINGS_CASES[6:7]
)
def test_check_watch_and_the_board_refuse_the_same_file_alike(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    section: str,
    line: str,
    number: int,
    where: str,
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(with_line(section, line))
    messages = []
    for command in ("check", "watch"):
        out, err = io.StringIO(), io.StringIO()
        assert main([command, str(path)], out=out, err=err) == 2
        assert out.getvalue() == ""
        messages.append(err.getvalue())
    assert run_board(path) == 2  # refused before any terminal is touched
    messages.append("gatewatch: " + capsys.readouterr().err)
    expected = f"gatewatch: {path}:{number}: {where}: "
    assert all(m.startswith(expected) for m in messages), messages
    assert "Traceback" not in "".join(messages)


# ------------------------------------------------------------------ typos


def test_a_misspelt_key_is_a_warning_with_line_and_the_closest_key(tmp_path: Path) -> None:
    text = with_line("top", "foo = 1")
    text = text.replace('interval = "30s"', 'intervall = "30s"')
    text += 'timout = "5s"\nexpect_stauts = 200\n'
    text = text.replace('command = "true"', 'command = "true"\ncomand = "x"')
    path = tmp_path / "w.toml"
    path.write_text(text)
    watchlist = load_checked(path)
    shown = [w.describe() for w in watchlist.warnings]
    assert shown == [
        f"{path}:2: key 'foo': unknown key: this gatewatch does not use it (kept as written)",
        f"{path}:5: defaults key 'intervall': unknown key: did you mean `interval`? "
        "(kept as written, not used)",
        f"{path}:9: key 'alerts.comand': unknown key: did you mean `command`? "
        "(kept as written, not used)",
        f"{path}:14: endpoint[1] \"shop\" key 'timout': unknown key: did you mean `timeout`? "
        "(kept as written, not used)",
        f"{path}:15: endpoint[1] \"shop\" key 'expect_stauts': unknown key: did you mean "
        "`expect_status`? (kept as written, not used)",
    ]
    # The keys survive a save, and so do their warnings.
    save(watchlist.with_endpoint(watchlist.endpoints[0].__class__(name="b", url="http://b/")))
    again = load_checked(path)
    assert again.document["foo"] == 1 and again.document["endpoint"][0]["timout"] == "5s"
    assert len(again.warnings) == 5
    # check prints them on stderr; stdout stays JSON.
    out, err = io.StringIO(), io.StringIO()
    main(["check", str(path), "--json"], out=out, err=err)
    json.loads(out.getvalue())
    assert "gatewatch: warning: " in err.getvalue() and "did you mean `timeout`?" in err.getvalue()


def test_known_keys_give_no_warning() -> None:
    text = with_line("endpoint", 'down_after = 3\nflap_window = "10m"\ntags = ["a"]')
    assert check_watchlist(loads(text)).warnings == ()


# ------------------------------------------------------------------ the property


def _toml_value(draw_depth: int) -> st.SearchStrategy[str]:
    scalars = st.one_of(
        st.integers(min_value=-(10**500), max_value=10**500).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(
            lambda f: {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(str(f), repr(f))
        ),
        st.booleans().map(lambda b: "true" if b else "false"),
        st.text(max_size=12).map(lambda s: json.dumps(s)),
        st.sampled_from(
            [
                '".5s"',
                '"1m30s"',
                '"9999999999d"',
                '"-3s"',
                '"Sat 02:00-04:00 UTC"',
                '"http://x:99999/"',
                '"env:X"',
                "1979-05-27T07:32:00Z",
                '"\'unclosed"',
            ]
        ),
        st.integers(min_value=1, max_value=1200).map(lambda n: "[" * n + "]" * n),
        st.integers(min_value=1, max_value=600).map(lambda n: "{a=" * n + "1" + "}" * n),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(inner, max_size=3).map(
                lambda xs: "{" + ", ".join(f"k{i} = {x}" for i, x in enumerate(xs)) + "}"
            ),
        ),
        max_leaves=draw_depth,
    )


KEYS = [
    "interval", "timeout", "expect_status", "headers", "resolvers", "tags", "proxy",
    "down_after", "up_after", "flap_threshold", "flap_window", "maintenance", "slow_factor",
    "command", "command_timeout", "webhook", "webhook_headers", "webhook_retries",
    "webhook_backoff", "timout", "version",
]  # fmt: skip


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a deep document shrinks slowly
    derandomize=True,  # the same examples in CI every time: a red build is reproducible
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["top", "defaults", "alerts", "endpoint"]),
            st.sampled_from(KEYS),
            _toml_value(6),
        ),
        min_size=1,
        max_size=4,
    ),
    mangle=st.none() | st.tuples(st.integers(min_value=0), st.text(max_size=3)),
)
def test_the_loader_raises_nothing_but_its_own_error(
    lines: list[tuple[str, str, str]], mangle: tuple[int, str] | None
) -> None:
    text = BASE
    for section, key, value in lines:
        text = with_line(section, f"{key} = {value}", text)
    if mangle is not None:
        at = mangle[0] % (len(text) + 1)
        text = text[:at] + mangle[1] + text[at:]
    try:
        watchlist = check_watchlist(loads(text))
    except WatchlistError:
        return
    watch_setup(watchlist)  # what loads must also start: no ValueError/OverflowError later

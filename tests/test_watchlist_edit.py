"""Editing a watchlist, durations, form validation and the line locator."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
import tomli_w

from gatewatch.model import Endpoint
from gatewatch.watchlist import (
    Watchlist,
    WatchlistError,
    endpoint_errors,
    format_duration,
    load,
    loads,
    parse_duration,
    save,
)
from gatewatch.watchlist.locate import KeyLines

BASE = textwrap.dedent(
    """\
    version = 1

    [defaults]
    interval = "30s"
    timeout = "10s"
    expect_status = "2xx"
    down_after = 3

    [[endpoint]]
    name = "shop"
    url = "https://shop.example/health"
    maintenance = ["Sat 02:00-04:00 UTC"]
    interval = "1m30s"
    expect_status = ["2XX", 301]
    headers = { Authorization = "env:SHOP_TOKEN" }
    x-team = "payments"

    [[endpoint]]
    name = "api"
    url = "https://api.example/ready"
    """
)


def table(wl: Watchlist, index: int) -> dict[str, object]:
    tables = wl.document["endpoint"]
    assert isinstance(tables, list)
    result = tables[index]
    assert isinstance(result, dict)
    return result


# --------------------------------------------------------------------------- editing


def test_with_endpoint_writes_only_what_differs_from_defaults() -> None:
    wl = loads(BASE)
    new = Endpoint(
        name="billing",
        url="https://billing.example/health",
        interval=30.0,  # = [defaults]
        timeout=2.5,
        expect_status=("2xx",),  # = [defaults]
        tags=("prod",),
        method="HEAD",
        extra={"down_after": 3, "up_after": 2},  # down_after = [defaults]
    )
    edited = wl.with_endpoint(new)
    assert table(edited, 2) == {
        "name": "billing",
        "url": "https://billing.example/health",
        "timeout": "2.5s",
        "tags": ["prod"],
        "method": "HEAD",
        "up_after": 2,
    }
    assert edited.find("billing") == new
    billing = edited.find("billing")
    assert billing is not None
    assert dict(billing.extra) == {"down_after": 3, "up_after": 2}
    assert wl.names == ("shop", "api")  # the original is untouched
    assert loads(tomli_w.dumps(edited.document)) == edited


def test_with_endpoint_refuses_a_taken_name_and_invalid_values() -> None:
    wl = loads(BASE)
    with pytest.raises(WatchlistError, match="already named") as caught:
        wl.with_endpoint(Endpoint(name="api", url="https://other.example"))
    assert caught.value.key == "endpoint[3].name"
    with pytest.raises(WatchlistError) as caught:
        wl.with_endpoint(Endpoint(name="new", url="ftp://files.example", timeout=-1.0))
    assert {e.key for e in caught.value.errors} == {"endpoint[3].url", "endpoint[3].timeout"}
    assert caught.value.line is None
    with pytest.raises(WatchlistError, match="Endpoint field"):
        wl.with_endpoint(Endpoint(name="new", url="https://n.example", extra={"timeout": 3}))


def test_replace_endpoint_keeps_spellings_order_and_unknown_keys() -> None:
    wl = loads(BASE)
    shop = wl.find("shop")
    assert shop is not None
    assert shop.expect_status == ("2xx", 301)
    edited = wl.replace_endpoint("shop", shop.replace(timeout=5.0, tags=("prod",)))
    assert list(table(edited, 0).items()) == [
        ("name", "shop"),
        ("url", "https://shop.example/health"),
        ("maintenance", ["Sat 02:00-04:00 UTC"]),
        ("interval", "1m30s"),  # unchanged: kept as written
        ("expect_status", ["2XX", 301]),  # unchanged: kept as written, case and all
        ("headers", {"Authorization": "env:SHOP_TOKEN"}),
        ("x-team", "payments"),
        ("timeout", "5s"),
        ("tags", ["prod"]),
    ]
    assert edited.find("shop") == shop.replace(timeout=5.0, tags=("prod",))


def test_replace_endpoint_drops_a_value_set_back_to_the_default() -> None:
    wl = loads(BASE)
    shop = wl.find("shop")
    assert shop is not None
    edited = wl.replace_endpoint("shop", shop.replace(interval=30.0, expect_status=("2xx",)))
    assert "interval" not in table(edited, 0)
    assert "expect_status" not in table(edited, 0)
    edited_shop = edited.find("shop")
    assert edited_shop is not None and edited_shop.interval == 30.0


def test_replace_endpoint_with_a_form_built_endpoint_keeps_other_layers_keys() -> None:
    wl = loads(BASE)
    # A form knows nothing of maintenance or x-team: its Endpoint has an empty extra.
    form = Endpoint(
        name="shop",
        url="https://shop.example/v2/health",
        interval=90.0,
        expect_status=("2xx", 301),
        headers=(("Authorization", "env:SHOP_TOKEN"),),
    )
    edited = wl.replace_endpoint("shop", form)
    assert table(edited, 0)["url"] == "https://shop.example/v2/health"
    assert table(edited, 0)["maintenance"] == ["Sat 02:00-04:00 UTC"]
    assert table(edited, 0)["x-team"] == "payments"
    # …while an extra it does set wins.
    shop = edited.find("shop")
    assert shop is not None
    changed = edited.replace_endpoint("shop", shop.replace(extra={**shop.extra, "x-team": "sre"}))
    assert table(changed, 0)["x-team"] == "sre"


def test_replace_endpoint_can_rename_but_not_onto_another_name() -> None:
    wl = loads(BASE)
    api = wl.find("api")
    assert api is not None
    renamed = wl.replace_endpoint("api", api.replace(name="api-v2"))
    assert renamed.names == ("shop", "api-v2")
    with pytest.raises(WatchlistError, match="already named"):
        wl.replace_endpoint("api", api.replace(name="shop"))
    with pytest.raises(KeyError):
        wl.replace_endpoint("nope", api)


def test_clearing_an_optional_value_that_defaults_set_writes_an_empty_string() -> None:
    wl = loads(
        '[defaults]\nproxy = "http://proxy:3128"\n[[endpoint]]\nname = "a"\nurl = "http://a"\n'
    )
    a = wl.find("a")
    assert a is not None and a.proxy == "http://proxy:3128"
    edited = wl.replace_endpoint("a", a.replace(proxy=None))
    assert table(edited, 0)["proxy"] == ""
    edited_a = edited.find("a")
    assert edited_a is not None and edited_a.proxy is None


def test_without_endpoint_and_find() -> None:
    wl = loads(BASE)
    assert wl.without_endpoint("shop").names == ("api",)
    assert wl.without_endpoint("shop").find("shop") is None
    with pytest.raises(KeyError):
        wl.without_endpoint("nope")


def test_edit_save_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(BASE)
    wl = load(path)
    wl = wl.with_endpoint(Endpoint(name="new", url="https://new.example", timeout=0.25))
    wl = save(wl)
    again = load(path)
    assert again == wl
    new = again.find("new")
    assert new is not None and new.timeout == 0.25
    assert "[[endpoint]]" in path.read_text()  # never the inline `endpoint = [{…}]` form


def test_empty_watchlist_for_a_first_run(tmp_path: Path) -> None:
    wl = Watchlist.empty(tmp_path / "w.toml")
    assert wl.endpoints == ()
    assert wl.document == {"version": 1}
    assert dict(wl.alerts) == {}
    assert wl.path == tmp_path / "w.toml"


# --------------------------------------------------------------------------- durations

DURATIONS = [
    ("500ms", 0.5),
    ("1.5s", 1.5),
    ("30s", 30.0),
    ("5m", 300.0),
    ("1h", 3600.0),
    ("1m30s", 90.0),
    ("1h30m", 5400.0),
    ("1m 30s", 90.0),
    ("100ms", 0.1),
    ("2d", 172800.0),
    ("5M", 300.0),
    (" 30s ", 30.0),
    ("30", 30.0),
    ("0.25", 0.25),
    (30, 30.0),
    (2.5, 2.5),
    (0, 0.0),
]


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("soon", 'got "soon"'),
        ("", 'got ""'),
        ("5 min", "expected a duration"),
        ("1m30", "expected a duration"),
        ("30s later", "expected a duration"),
        ("-5s", "can't be negative"),
        (-1, "can't be negative"),
        (math.inf, "expected a duration"),
        (math.nan, "expected a duration"),
        (True, "got true"),
        ([30], "got an array"),
        (None, "got a NoneType"),
    ],
)
def test_parse_duration_refuses(value: object, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "500ms"),
        (30.0, "30s"),
        (300, "5m"),
        (3600, "1h"),
        (90, "1m30s"),
        (5400, "1h30m"),
        (1.5, "1.5s"),
        (0, "0s"),
        (0.0015, "1.5ms"),
        (3600.5, "1h500ms"),
        (86400, "24h"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("seconds", [0.001, 0.1, 0.3, 2.5, 10, 59.5, 61.25, 7200, 0.123, 12.345])
def test_format_duration_reads_back_exactly(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


# --------------------------------------------------------------------------- form validation


def test_endpoint_errors_accepts_a_valid_form() -> None:
    assert (
        endpoint_errors(
            {
                "name": "shop",
                "url": "https://shop.example",
                "timeout": "5s",
                "expect_status": [200, "3xx"],
                "down_after": 3,
            }
        )
        == {}
    )


def test_endpoint_errors_names_each_bad_field() -> None:
    errors = endpoint_errors(
        {
            "name": "shop",
            "url": "shop.example",
            "timeout": "soon",
            "interval": 0,
            "expect_status": [200, 999],
            "resolvers": ["1.1.1.1", "dns.google"],
            "headers": {"Authorization": "Bearer x\r\nHost: evil"},
            "insecure": "no",
            "maintenance": "whatever",  # another layer's key: the monitor judges it at load
        },
        existing_names={"api"},
    )
    assert errors == {
        "url": 'expected an http:// or https:// URL, got "shop.example" '
        '(did you mean "http://shop.example"?)',
        "timeout": 'expected a duration like 500ms, 30s or 5m, got "soon"',
        "interval": "an interval must be longer than zero, got 0",
        "expect_status": "item 2: HTTP statuses run from 100 to 599, got 999",
        "resolvers": (
            "item 2: expected an IP address with an optional port, like 1.1.1.1, "
            "127.0.0.1:5353 or [::1]:53 (a resolver is an address: a name would need DNS "
            'itself), got "dns.google"'
        ),
        "headers": (
            "header 'Authorization': a header value can't contain a line break (CR or LF), "
            'got "Bearer x\\r\\nHost: evil"'
        ),
        "insecure": 'expected true or false, got "no"',
    }


def test_endpoint_errors_required_and_duplicate_names() -> None:
    assert endpoint_errors({}) == {
        "name": "required: every endpoint needs a name",
        "url": "required: every endpoint needs a url",
    }
    assert endpoint_errors({"name": "api", "url": "https://a.example"}, existing_names=["api"]) == {
        "name": 'another endpoint is already named "api"'
    }


# --------------------------------------------------------------------------- locator


def test_key_lines_follow_every_toml_form() -> None:
    text = textwrap.dedent(
        """\
        version = 1   # comment with [[endpoint]]
        [defaults]
        interval = "30s"
        [[endpoint]]
        name = "a"
        notes = '''
        [[endpoint]]
        name = "fake"
        '''
        headers.X-One = "1"
        "quoted key" = 1
        resolvers = [
          "1.1.1.1",  # first
          "8.8.8.8",
        ]
        [endpoint.sub]
        inner = { deep = 1, other = [1, 2] }
        [[endpoint]]
        name = "b"
        """
    )
    lines = KeyLines(text)
    assert lines.line_of(("version",)) == 1
    assert lines.line_of(("defaults", "interval")) == 3
    assert lines.line_of(("endpoint", 0)) == 4
    assert lines.line_of(("endpoint", 0, "headers", "X-One")) == 10
    assert lines.line_of(("endpoint", 0, "quoted key")) == 11
    assert lines.line_of(("endpoint", 0, "resolvers", 1)) == 14
    assert lines.line_of(("endpoint", 0, "sub", "inner", "other", 1)) == 17
    assert lines.line_of(("endpoint", 1, "name")) == 19
    assert lines.line_of(("endpoint", 1, "timeout")) == 18  # falls back to the header
    assert lines.line_of(("endpoint", 2, "name")) is None
    assert lines.duplicate is None


def test_key_lines_survive_text_they_do_not_follow() -> None:
    lines = KeyLines('a = 1\nb = "unterminated\nc = 3\n')
    assert lines.line_of(("a",)) == 1
    assert lines.line_of(("c",)) is None

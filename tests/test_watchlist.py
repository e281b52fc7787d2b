"""The watchlist file: load, validate with file:line:key errors, save atomically.

Real files in tmp_path; the only patching is of os functions, to make a save fail
midway the way a full disk or a crash would.
"""

from __future__ import annotations

import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from gatewatch.model import Endpoint
from gatewatch.watchlist import (
    Watchlist,
    WatchlistConflict,
    WatchlistError,
    default_path,
    load,
    loads,
    save,
)

FULL = textwrap.dedent(
    """\
    version = 1
    owner = "team-payments"           # an unknown top-level key

    [defaults]
    interval = "30s"
    timeout = "10s"
    down_after = 3
    tags = ["prod"]

    [[endpoint]]
    name = "shop"
    url = "https://shop.example/health"
    interval = "1m30s"
    expect_status = [200, "2xx"]
    expect_body = "ok"
    origin = "http://10.0.0.12:8080/health"
    proxy = "http://proxy.corp:3128"
    resolvers = ["1.1.1.1", "127.0.0.1:5353", "[::1]:53"]
    headers = { Authorization = "env:SHOP_TOKEN", Accept = "text/plain" }
    tags = ["prod", "payments"]
    method = "GET"
    all_addresses = true
    insecure = false
    ca_bundle = "/etc/ssl/corp.pem"
    maintenance = ["Sat 02:00-04:00 UTC"]
    flap_threshold = 4

    [[endpoint]]
    name = "api"
    url = "http://api.internal:8080/ready"
    expect_status = "2xx"
    timeout = 2.5

    [endpoint.custom]
    owner = "sre"

    [alerts]
    command = "notify-send gatewatch"
    webhook = "https://hooks.example/T0"
    """
)


def write(tmp_path: Path, text: str, name: str = "watchlist.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def stray_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- loading


def test_full_file_loads_into_endpoints(tmp_path: Path) -> None:
    wl = load(write(tmp_path, FULL))
    shop, api = wl.endpoints
    assert shop == Endpoint(
        name="shop",
        url="https://shop.example/health",
        interval=90.0,
        timeout=10.0,
        expect_status=(200, "2xx"),
        expect_body="ok",
        origin="http://10.0.0.12:8080/health",
        proxy="http://proxy.corp:3128",
        resolvers=("1.1.1.1", "127.0.0.1:5353", "[::1]:53"),
        headers=(("Authorization", "env:SHOP_TOKEN"), ("Accept", "text/plain")),
        tags=("prod", "payments"),
        all_addresses=True,
        ca_bundle="/etc/ssl/corp.pem",
    )
    assert dict(shop.extra) == {
        "down_after": 3,
        "maintenance": ["Sat 02:00-04:00 UTC"],
        "flap_threshold": 4,
    }
    # [defaults] fills what the endpoint does not set; its extras sit under the endpoint's.
    assert (api.interval, api.timeout, api.tags, api.expect_status) == (
        30.0,
        2.5,
        ("prod",),
        ("2xx",),
    )
    assert dict(api.extra) == {"down_after": 3, "custom": {"owner": "sre"}}
    assert wl.find("api") is api
    assert wl.find("nope") is None
    assert wl.defaults["interval"] == 30.0
    assert wl.defaults["down_after"] == 3
    assert wl.alerts["webhook"] == "https://hooks.example/T0"
    assert wl.document["owner"] == "team-payments"
    assert wl.path == tmp_path / "watchlist.toml"


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    first = load(path)
    save(first, tmp_path / "copy.toml")
    second = load(tmp_path / "copy.toml")
    assert second == first
    assert second.endpoints == first.endpoints
    assert [dict(e.extra) for e in second.endpoints] == [dict(e.extra) for e in first.endpoints]
    assert second.document == first.document
    assert dict(second.alerts) == {
        "command": "notify-send gatewatch",
        "webhook": "https://hooks.example/T0",
    }
    assert second.document["owner"] == "team-payments"
    # The user's spellings survive: "2xx" stays "2xx", "1m30s" stays "1m30s".
    text = (tmp_path / "copy.toml").read_text()
    assert 'expect_status = "2xx"' in text
    assert 'interval = "1m30s"' in text


def test_loads_without_a_path() -> None:
    wl = loads('version = 1\n[[endpoint]]\nname = "a"\nurl = "http://a.example"\n')
    assert wl.path is None
    assert wl.names == ("a",)
    with pytest.raises(ValueError, match="no file"):
        save(wl)


def test_missing_version_means_version_1_and_empty_file_is_empty() -> None:
    assert loads("").endpoints == ()
    assert loads('[[endpoint]]\nname = "a"\nurl = "https://a.example"').names == ("a",)


def test_missing_file_is_an_os_error_not_a_watchlist_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.toml")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_bytes(
        b'\xef\xbb\xbfversion = 1\n[[endpoint]]\nname = "a"\nurl = "https://a.example"\n'
    )
    assert load(path).names == ("a",)


def test_empty_string_clears_an_optional_default() -> None:
    wl = loads(
        textwrap.dedent(
            """\
            [defaults]
            proxy = "http://proxy.corp:3128"
            [[endpoint]]
            name = "inside"
            url = "http://10.0.0.1/"
            proxy = ""
            [[endpoint]]
            name = "outside"
            url = "https://example.com/"
            """
        )
    )
    inside, outside = wl.find("inside"), wl.find("outside")
    assert inside is not None and outside is not None
    assert inside.proxy is None
    assert outside.proxy == "http://proxy.corp:3128"


def test_relative_ca_bundle_is_taken_from_the_watchlist_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[endpoint]]
        name = "a"
        url = "https://a.example"
        ca_bundle = "certs/ca.pem"
        """,
    )
    wl = load(path)
    assert wl.endpoints[0].ca_bundle == str(tmp_path / "certs" / "ca.pem")
    saved = save(wl.replace_endpoint("a", wl.endpoints[0].replace(timeout=3.0)))
    assert 'ca_bundle = "certs/ca.pem"' in path.read_text()  # written as the user wrote it
    assert saved.endpoints[0].ca_bundle == str(tmp_path / "certs" / "ca.pem")


# --------------------------------------------------------------------------- errors

HEAD = 'version = 1\n[[endpoint]]\nname = "a"\nurl = "https://a.example"\n'

# (file text, expected line, expected key, a fragment of the message)
MALFORMED = [
    (
        HEAD + '[[endpoint]]\nname = "shop"\nurl = "https://shop.example"\ntimeout = "soon"\n',
        8,
        "endpoint[2].timeout",
        'expected a duration like 500ms, 30s or 5m, got "soon"',
    ),
    (HEAD + "interval = 0\n", 5, "endpoint[1].interval", "longer than zero"),
    (HEAD + 'interval = "-5s"\n', 5, "endpoint[1].interval", "can't be negative"),
    (HEAD + "timeout = -1\n", 5, "endpoint[1].timeout", "can't be negative"),
    (HEAD + "timeout = true\n", 5, "endpoint[1].timeout", "got true"),
    ('version = 1\n\n[defaults]\ninterval = "fast"\n', 4, "defaults.interval", '"fast"'),
    ('version = 1\n[defaults]\nname = "x"\n', 3, "defaults.name", "its own name"),
    ("version = 2\n", 1, "version", "unsupported watchlist version 2"),
    ('version = "1"\n', 1, "version", "expected the number 1"),
    ('version = 1\n\n[[endpoint]]\nurl = "https://a.example"\n', 3, "endpoint[1].name", "missing"),
    ('version = 1\n[[endpoint]]\nname = "a"\n', 2, "endpoint[1].url", "missing"),
    (
        HEAD + '\n[[endpoint]]\nname = "a"\nurl = "https://b.example"\n',
        7,
        "endpoint[2].name",
        "duplicate name",
    ),
    (
        '[[endpoint]]\nname = "a"\nurl = "ftp://a.example"\n',
        3,
        "endpoint[1].url",
        "http:// or https://",
    ),
    ('[[endpoint]]\nname = "a"\nurl = "https://"\n', 3, "endpoint[1].url", "no host"),
    (
        '[[endpoint]]\nname = "a"\nurl = "https://a.example:99999/"\n',
        3,
        "endpoint[1].url",
        "a port runs from 1 to 65535",
    ),
    ('[[endpoint]]\nname = "a"\nurl = "https://a.example/a b"\n', 3, "endpoint[1].url", "spaces"),
    ('[[endpoint]]\nname = "a"\nurl = 42\n', 3, "endpoint[1].url", "got 42"),
    ('[[endpoint]]\nname = ""\nurl = "https://a.example"\n', 2, "endpoint[1].name", "empty"),
    (
        '[[endpoint]]\nname = ["a"]\nurl = "https://a.example"\n',
        2,
        "endpoint[1].name",
        "got an array",
    ),
    (HEAD + 'origin = "origin.internal"\n', 5, "endpoint[1].origin", "http:// or https://"),
    (HEAD + 'proxy = "socks5://proxy:1080"\n', 5, "endpoint[1].proxy", "http:// or https://"),
    (HEAD + 'proxy = "env:"\n', 5, "endpoint[1].proxy", "names an environment variable"),
    (HEAD + "expect_status = [200, 700]\n", 5, "endpoint[1].expect_status[2]", "100 to 599"),
    (HEAD + 'expect_status = "ok"\n', 5, "endpoint[1].expect_status", '"2xx"'),
    (HEAD + "expect_status = [true]\n", 5, "endpoint[1].expect_status[1]", "got true"),
    (HEAD + "expect_status = { a = 1 }\n", 5, "endpoint[1].expect_status", "got a table"),
    (
        HEAD + 'resolvers = [\n  "1.1.1.1",\n  "dns.google",\n]\n',
        7,
        "endpoint[1].resolvers[2]",
        "a name would need DNS",
    ),
    (HEAD + 'resolvers = ["1.1.1.1:99999"]\n', 5, "endpoint[1].resolvers[1]", "1 to 65535"),
    (HEAD + 'resolvers = ["[::1"]\n', 5, "endpoint[1].resolvers[1]", "IP address"),
    (HEAD + 'resolvers = "1.1.1.1"\n', 5, "endpoint[1].resolvers", "list of resolvers"),
    (
        HEAD + "headers = { X-Retries = 3 }\n",
        5,
        "endpoint[1].headers.X-Retries",
        "must be a string",
    ),
    (
        HEAD + 'headers.X-Evil = "a\\r\\nSet-Cookie: x"\n',
        5,
        "endpoint[1].headers.X-Evil",
        "line break",
    ),
    (
        HEAD + '\n[endpoint.headers]\nAccept = "*/*"\nX-Evil = "a\\nb"\n',
        8,
        "endpoint[1].headers.X-Evil",
        "line break",
    ),
    (
        HEAD + 'headers = { "Bad Name" = "x" }\n',
        5,
        'endpoint[1].headers."Bad Name"',
        "not a valid header name",
    ),
    (
        HEAD + 'headers = { Authorization = "env:1BAD" }\n',
        5,
        "endpoint[1].headers.Authorization",
        "names an environment variable",
    ),
    (HEAD + 'headers = "Authorization: x"\n', 5, "endpoint[1].headers", "table of header"),
    (HEAD + 'tags = "prod"\n', 5, "endpoint[1].tags", "list of tags"),
    (HEAD + 'tags = ["prod", ""]\n', 5, "endpoint[1].tags[2]", "empty"),
    (HEAD + 'method = "GE T"\n', 5, "endpoint[1].method", "HTTP method"),
    (HEAD + 'all_addresses = "yes"\n', 5, "endpoint[1].all_addresses", "true or false"),
    (HEAD + "insecure = 1\n", 5, "endpoint[1].insecure", "true or false"),
    (HEAD + "ca_bundle = 5\n", 5, "endpoint[1].ca_bundle", "PEM"),
    ('version = 1\nendpoint = "shop"\n', 2, "endpoint", "[[endpoint]]"),
    ('version = 1\n[endpoint]\nname = "a"\n', 2, "endpoint", "double brackets"),
    ("version = 1\ndefaults = 3\n", 2, "defaults", "[defaults] table"),
    ("version = 1\nalerts = 3\n", 2, "alerts", "[alerts] table"),
    (
        'version = 1\nendpoint = [\n  { name = "a", url = "https://a.example" },\n'
        '  { name = "b", url = "gopher://b" },\n]\n',
        4,
        "endpoint[2].url",
        "http://",
    ),
    # A multi-line string that looks like a table header must not shift the count.
    (
        '[[endpoint]]\nname = "a"\nurl = "https://a.example"\nexpect_body = """\n[[endpoint]]\n"""'
        '\n[[endpoint]]\nname = "b"\nurl = "https://b.example"\ntimeout = "x"\n',
        10,
        "endpoint[2].timeout",
        '"x"',
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "fragment"), MALFORMED)
def test_each_error_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, fragment: str
) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WatchlistError) as caught:
        load(path)
    error = caught.value
    assert (error.path, error.line, error.key) == (str(path), line, key), str(error)
    assert fragment in error.message
    assert str(error).startswith(f"{path}:{line}: ")
    assert fragment in str(error)


def test_error_reads_like_the_issue_says() -> None:
    text = HEAD + '[[endpoint]]\nname = "shop"\nurl = "https://shop.example"\ntimeout = "soon"\n'
    with pytest.raises(WatchlistError) as caught:
        loads(text, "watchlist.toml")
    assert str(caught.value) == (
        "watchlist.toml:8: endpoint[2] \"shop\" key 'timeout': "
        'expected a duration like 500ms, 30s or 5m, got "soon"'
    )
    assert caught.value.index == 1
    assert caught.value.endpoint == "shop"
    assert isinstance(caught.value, ValueError)


def test_all_errors_are_collected_first_in_file_first() -> None:
    text = textwrap.dedent(
        """\
        [defaults]
        timeout = "later"
        [[endpoint]]
        name = "a"
        url = "nope"
        interval = 0
        [[endpoint]]
        url = "https://b.example"
        """
    )
    with pytest.raises(WatchlistError) as caught:
        loads(text, "w.toml")
    found = [(e.line, e.key) for e in caught.value.errors]
    assert found == [
        (2, "defaults.timeout"),
        (5, "endpoint[1].url"),
        (6, "endpoint[1].interval"),
        (7, "endpoint[2].name"),
    ]
    assert caught.value.describe_all().count("\n") == 3


def test_defaults_key_for_a_missing_name_is_reported_without_a_name() -> None:
    with pytest.raises(WatchlistError) as caught:
        loads('[[endpoint]]\nurl = "https://a.example"\n', "w.toml")
    assert (
        str(caught.value)
        == "w.toml:1: endpoint[1] key 'name': missing: every endpoint needs a name"
    )


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('version = 1\n[[endpoint]]\nname = "unterminated\n', 3, None),
        ("version = 1\n[defaults]\ninterval = \n", 3, None),
        (
            'version = 1\n[[endpoint]]\nname = "a"\nurl = "https://a"\nname = "b"\n',
            5,
            "endpoint[1].name",
        ),
        ("[defaults]\ntimeout = 1\n\n[defaults]\ninterval = 2\n", 4, "defaults"),
    ],
)
def test_syntax_errors_name_the_line(tmp_path: Path, text: str, line: int, key: str | None) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(text)
    with pytest.raises(WatchlistError) as caught:
        load(path)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert "invalid TOML" in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_bytes(b'version = 1\n[[endpoint]]\nname = "caf\xe9"\n')
    with pytest.raises(WatchlistError) as caught:
        load(path)
    assert caught.value.line == 3
    assert "UTF-8" in str(caught.value)


def test_control_characters_from_the_file_are_shown_escaped() -> None:
    text = (
        '[[endpoint]]\nname = "evil\\u001b[2J"\nurl = "https://a.example"\n'
        'timeout = "\\u001b]0;x\\u0007"\n'
    )
    with pytest.raises(WatchlistError) as caught:
        loads(text)
    message = caught.value.describe_all()
    assert "\x1b" not in message and "\x07" not in message
    assert "\\x1b" in message


@pytest.mark.parametrize(
    "text",
    [
        '[[endpoint]]\nname = "a"\nurl = "https://a.example"\ntimeout = "soon"\n',
        '[[endpoint]]\nname = "a\n',
        "version = 99\n",
    ],
)
def test_a_failed_load_leaves_the_file_byte_identical(tmp_path: Path, text: str) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text("# my notes\n" + text)
    before = path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode
    with pytest.raises(WatchlistError):
        load(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watchlist.toml"]


# --------------------------------------------------------------------------- saving


def test_save_keeps_the_previous_version_as_bak(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    original = path.read_bytes()
    wl = load(path)
    wl = save(wl.without_endpoint("api"))
    assert (tmp_path / "watchlist.toml.bak").read_bytes() == original
    assert load(path).names == ("shop",)
    second = path.read_bytes()
    save(wl.without_endpoint("shop"))
    assert (tmp_path / "watchlist.toml.bak").read_bytes() == second
    assert load(path).names == ()
    assert stray_files(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_save_preserves_the_file_mode(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    path.chmod(0o640)
    save(load(path).without_endpoint("api"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "watchlist.toml.bak").stat().st_mode) == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_a_new_file_is_private_and_its_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "config" / "gatewatch" / "watchlist.toml"
    wl = Watchlist.empty(path).with_endpoint(Endpoint(name="a", url="https://a.example"))
    saved = save(wl)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (path.parent / "watchlist.toml.bak").exists()
    assert (
        path.read_text() == 'version = 1\n\n[[endpoint]]\nname = "a"\nurl = "https://a.example"\n'
    )
    assert saved == load(path)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_save_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = write(tmp_path, FULL, "dotfiles-watchlist.toml")
    link = tmp_path / "watchlist.toml"
    link.symlink_to(real)
    save(load(link).without_endpoint("api"))
    assert link.is_symlink()
    assert load(real).names == ("shop",)


def test_interrupted_rename_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, FULL)
    before = path.read_bytes()
    wl = load(path).without_endpoint("api")
    real_replace = os.replace

    def crash(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space"):
        save(wl)
    assert path.read_bytes() == before
    assert stray_files(tmp_path) == []
    monkeypatch.undo()
    assert save(wl) == load(path)  # and the next save goes through


def test_interrupted_fsync_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, FULL)
    before = path.read_bytes()
    wl = load(path).without_endpoint("api")

    def crash(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="Input/output"):
        save(wl)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watchlist.toml"]


def test_an_unwritable_value_is_refused_before_any_file_is_touched(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    before = path.read_bytes()
    wl = load(path)
    bad = Endpoint(name="new", url="https://new.example", extra={"owner": None})
    with pytest.raises(WatchlistError, match="can't be written as TOML") as caught:
        save(wl.with_endpoint(bad))
    assert caught.value.key == "endpoint[3]"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watchlist.toml"]


def test_env_secrets_are_never_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "s3cr3t-token")
    monkeypatch.setenv("PROXY_URL", "http://user:hunter2@proxy:3128")
    path = write(tmp_path, FULL)
    wl = load(path)
    shop = wl.find("shop")
    assert shop is not None
    assert dict(shop.headers)["Authorization"] == "env:SHOP_TOKEN"
    wl = wl.with_endpoint(
        Endpoint(
            name="billing",
            url="https://billing.example/health",
            proxy="env:PROXY_URL",
            headers=(("X-Api-Key", "env:SHOP_TOKEN"),),
        )
    )
    save(wl)
    text = path.read_text()
    assert "s3cr3t-token" not in text and "hunter2" not in text
    assert 'Authorization = "env:SHOP_TOKEN"' in text
    assert 'X-Api-Key = "env:SHOP_TOKEN"' in text
    assert 'proxy = "env:PROXY_URL"' in text
    billing = load(path).find("billing")
    assert billing is not None and billing.proxy == "env:PROXY_URL"


def test_save_refuses_to_overwrite_edits_made_on_disk(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    wl = load(path)
    edited_by_hand = path.read_text().replace('name = "api"', 'name = "api-v2"')
    path.write_text(edited_by_hand)
    with pytest.raises(WatchlistConflict):
        save(wl.without_endpoint("shop"))
    assert path.read_text() == edited_by_hand
    save(wl.without_endpoint("shop"), force=True)
    assert load(path).names == ("api",)
    assert (tmp_path / "watchlist.toml.bak").read_text() == edited_by_hand


def test_successive_edits_of_one_session_do_not_conflict(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    wl = load(path)
    first = wl.without_endpoint("api")
    save(first)  # the returned value is ignored on purpose: a UI may keep its own
    second = first.with_endpoint(Endpoint(name="new", url="https://new.example"))
    save(second)
    assert load(path).names == ("shop", "new")


def test_a_first_run_never_replaces_a_file_that_appeared(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    fresh = Watchlist.empty(path)
    path.write_text(FULL)  # e.g. the real file failed to load, or another process made one
    with pytest.raises(WatchlistConflict):
        save(fresh)
    assert path.read_text() == FULL


# --------------------------------------------------------------------------- default path


def test_default_path_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWATCH_WATCHLIST", str(tmp_path / "mine.toml"))
    assert default_path() == tmp_path / "mine.toml"
    monkeypatch.setenv("GATEWATCH_WATCHLIST", "~/lists/w.toml")
    assert default_path() == Path.home() / "lists" / "w.toml"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG layout")
def test_default_path_falls_back_to_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATEWATCH_WATCHLIST", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_path() == tmp_path / "gatewatch" / "watchlist.toml"


def test_interval_below_half_a_second_is_a_typo(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    text = (
        'version = 1\n[[endpoint]]\nname = "shop"\nurl = "https://shop.test/"\n'
        'interval = "30ms"\n'
    )
    path.write_text(text)
    with pytest.raises(WatchlistError) as caught:
        load(path)
    assert caught.value.line == 5 and "interval" in str(caught.value)
    assert "at least 0.5s" in str(caught.value)
    assert path.read_text() == text

"""Add or edit an endpoint: a form that validates as you type, by the watchlist's own rules.

Why the watchlist's rules: a form that accepts what the next load refuses is how a
watchlist gets broken at 3 a.m. Every change re-runs ``gatewatch.watchlist.endpoint_errors``
on the fields (TOML-shaped, exactly as a file would hold them), shows each message under
its field, and keeps Save disabled until there are none. Saving builds the Endpoint the way
a load would (``board.build_endpoint``, with the watchlist's ``[defaults]``), so what is
added is what the file will say. Dismisses with the Endpoint, or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from gatewatch import watchlist as wl
from gatewatch.board.state import build_endpoint
from gatewatch.model import Endpoint
from gatewatch.text import visible

#: Whether text cursors blink; the snapshot tests turn it off for stable pictures.
CURSOR_BLINK = True


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    placeholder: str
    kind: str = "text"  # text | list | status | headers | flag


FIELDS: tuple[Field, ...] = (
    Field("name", "Name", "shop (required)"),
    Field("url", "URL", "https://shop.example/health (required)"),
    Field("interval", "Interval", "default from [defaults], e.g. 30s"),
    Field("timeout", "Timeout", "default from [defaults], e.g. 10s"),
    Field("expect_status", "Expect status", "200-399 when empty; e.g. 200, 2xx", "status"),
    Field("expect_body", "Expect body", "text the body must contain"),
    Field("origin", "Origin", "the app without the gateway: http://10.0.0.12:8080/health"),
    Field("proxy", "Forward proxy", "http://proxy.corp:3128 or env:PROXY_URL"),
    Field("resolvers", "Resolvers", "compare resolvers: 1.1.1.1, 127.0.0.1:5353", "list"),
    Field("headers", "Headers", "one per line: Authorization: env:SHOP_TOKEN", "headers"),
    Field("tags", "Tags", "prod, payments", "list"),
    Field("method", "Method", "GET"),
    Field("ca_bundle", "CA bundle", "path of a PEM file"),
    Field("http_version", "HTTP version", "auto (offer h2 and http/1.1), 1.1 or 2"),
    Field("all_addresses", "Probe every address", "", "flag"),
    Field("insecure", "Skip TLS verification", "", "flag"),
)


def initial_values(endpoint: Endpoint) -> dict[str, Any]:
    """The form's text for an existing endpoint (secrets stay ``env:`` references)."""
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "interval": wl.format_duration(endpoint.interval),
        "timeout": wl.format_duration(endpoint.timeout),
        "expect_status": ", ".join(str(s) for s in endpoint.expect_status),
        "expect_body": endpoint.expect_body or "",
        "origin": endpoint.origin or "",
        "proxy": endpoint.proxy or "",
        "resolvers": ", ".join(endpoint.resolvers),
        "headers": "\n".join(f"{k}: {v}" for k, v in endpoint.headers),
        "tags": ", ".join(endpoint.tags),
        "method": endpoint.method if endpoint.method != "GET" else "",
        "ca_bundle": endpoint.ca_bundle or "",
        "http_version": endpoint.http_version if endpoint.http_version != "auto" else "",
        "all_addresses": endpoint.all_addresses,
        "insecure": endpoint.insecure,
    }


def to_fields(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Form text → TOML-shaped fields (empty ones left out), and the form's own errors."""
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in FIELDS:
        raw = values.get(spec.key)
        if spec.kind == "flag":
            if raw:
                fields[spec.key] = True
            continue
        text = str(raw or "").strip()
        if not text:
            continue
        if spec.kind == "list":
            fields[spec.key] = [p.strip() for p in text.split(",") if p.strip()]
        elif spec.kind == "status":
            items = [p.strip() for p in text.split(",") if p.strip()]
            fields[spec.key] = [int(p) if p.isdigit() else p for p in items]
        elif spec.kind == "headers":
            headers: dict[str, str] = {}
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                name, colon, value = line.partition(":")
                if not colon or not name.strip():
                    errors[spec.key] = f"line {number}: expected Name: value"
                    break
                headers[name.strip()] = value.strip()
            fields[spec.key] = headers
        else:
            fields[spec.key] = text
    return fields, errors


class EndpointForm(ModalScreen[Endpoint | None]):
    """The add/edit dialog. ``endpoint`` None means add."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.save", priority=True),
        # Priority: the app resolves them before it hands the next keys to the focused
        # field. Otherwise keys typed at paste speed after a Tab (``shop⇥https://…``) are
        # already queued for the name field when the Tab bubbles back up to move focus.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(self, watchlist: wl.Watchlist, endpoint: Endpoint | None = None) -> None:
        super().__init__(classes="modal")
        self.watchlist = watchlist
        self.original = endpoint
        self._existing = tuple(n for n in watchlist.names if endpoint is None or n != endpoint.name)
        self.errors: dict[str, str] = {}
        #: Fields whose messages are shown: those changed, or all after a save was tried.
        #: A fresh form does not greet the engineer with "required" before a key is typed.
        self.touched: set[str] = set()
        self.tried = False

    def compose(self) -> ComposeResult:
        values = initial_values(self.original) if self.original else {}
        title = "Edit endpoint" if self.original else "Add endpoint"
        with Vertical(classes="dialog form-dialog"):
            yield Label(Content(title), classes="dialog-title")
            with VerticalScroll(classes="form-fields"):
                for spec in FIELDS:
                    with Horizontal(classes="form-row", id=f"row-{spec.key}"):
                        yield Label(Content(spec.label), classes="form-label")
                        with Vertical(classes="form-input"):
                            yield self._input(spec, values.get(spec.key))
                            yield Static("", classes="form-error", id=f"error-{spec.key}")
            yield Static("", classes="form-summary", id="form-summary")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content("Save (ctrl+s)"), id="save", variant="primary")
                yield Button(Content("Cancel (esc)"), id="cancel")

    def _input(self, spec: Field, value: Any) -> Input | TextArea | Checkbox:
        ident = f"field-{spec.key}"
        if spec.kind == "flag":
            return Checkbox(Content(spec.label), bool(value), id=ident)
        if spec.kind == "headers":
            area = TextArea(str(value or ""), id=ident, compact=True, soft_wrap=False)
            area.cursor_blink = CURSOR_BLINK
            return area
        box = Input(str(value or ""), placeholder=spec.placeholder, id=ident, compact=True)
        box.cursor_blink = CURSOR_BLINK
        return box

    def on_mount(self) -> None:
        self.query_one("#field-name", Input).focus()
        self.validate()

    # ------------------------------------------------------------------ validation

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in FIELDS:
            widget = self.query_one(f"#field-{spec.key}")
            if isinstance(widget, Input):
                out[spec.key] = widget.value
            elif isinstance(widget, TextArea):
                out[spec.key] = widget.text
            elif isinstance(widget, Checkbox):
                out[spec.key] = widget.value
        return out

    def validate(self) -> dict[str, Any]:
        """Check every field now; show the messages; return the TOML-shaped fields."""
        fields, errors = to_fields(self.values())
        errors = {**wl.endpoint_errors(fields, existing_names=self._existing), **errors}
        self.errors = errors
        for spec in FIELDS:
            message = errors.get(spec.key)
            if not (self.tried or spec.key in self.touched):
                message = None
            label = self.query_one(f"#error-{spec.key}", Static)
            label.update(Content(visible(message)) if message else Content(""))
            label.set_class(bool(message), "-shown")
            self.query_one(f"#row-{spec.key}").set_class(bool(message), "-invalid")
        self.query_one("#save", Button).disabled = bool(errors)
        summary = self.query_one("#form-summary", Static)
        # Count what is shown: "2 fields to fix" under one visible message reads as a bug.
        count = sum(1 for key in errors if self.tried or key in self.touched)
        summary.update(
            Content(f"{count} field{'s' if count != 1 else ''} to fix") if count else Content("")
        )
        return fields

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Input.Changed | TextArea.Changed | Checkbox.Changed) -> None:
        control = event.control
        ident = control.id if control is not None else None
        # A field counts as touched when the engineer changed it (focused), not when it was
        # filled in while composing.
        if ident and ident.startswith("field-") and control is not None and control.has_focus:
            self.touched.add(ident.removeprefix("field-"))
        self.validate()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_submit()

    # ------------------------------------------------------------------ answers

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        self.tried = True
        fields = self.validate()
        if self.errors:
            self.query_one("#form-summary", Static).update(
                Content.styled("fix the fields marked above first", "bold")
            )
            return
        extra = self.original.extra if self.original is not None else None
        try:
            endpoint = build_endpoint(fields, self.watchlist, extra=extra)
        except wl.WatchlistError as exc:
            self.query_one("#form-summary", Static).update(Content(visible(exc.message)))
            return
        self.dismiss(endpoint)

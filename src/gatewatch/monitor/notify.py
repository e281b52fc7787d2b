"""Who hears about what: listeners hear everything, people only what the policy lets through.

Why a class of its own: the rules for *people* (alert sinks) differ from the rules for
*listeners* (the board, ``watch``). Listeners get every transition at once. People get
transitions into and out of trouble, never during maintenance, and never per endpoint while
the problem is local; what a local problem held back is settled per endpoint on its next
result, once its state is fresh again (right after the network returns most states are
stale, and alerting on them would page for endpoints about to turn out fine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from gatewatch.model import Verdict
from gatewatch.monitor.alerts import AlertPolicy, local_alert, transition_alert
from gatewatch.monitor.events import LocalProblem, Message, StateChanged
from gatewatch.monitor.sinks import AlertDispatcher
from gatewatch.monitor.state import State, TransitionEvent


class Notifier:
    """Engine thread only."""

    def __init__(
        self,
        publish: Callable[[Message], None],
        dispatcher: AlertDispatcher,
        clock: Callable[[], datetime],
    ) -> None:
        self.publish = publish
        self.dispatcher = dispatcher
        self.clock = clock
        self.policy = AlertPolicy()
        #: Endpoints whose alerts a local problem held back, to settle on their next result.
        self.unsettled: set[str] = set()
        #: Acknowledged endpoints: listeners hear everything, people nothing until UP again.
        self.acked: set[str] = set()

    def transition(self, event: TransitionEvent, url: str) -> None:
        self.publish(StateChanged(event))
        if event.endpoint not in self.acked and self.policy.should_alert(event):
            self.dispatcher.send(transition_alert(event, url))

    def local(self, change: LocalProblem | None, names: Iterable[str]) -> None:
        """A change of the local-problem verdict (None: no change). ``names``: all endpoints."""
        if change is None:
            return
        self.policy.local = change.active
        self.publish(change)
        self.dispatcher.send(local_alert(change, self.clock()))
        if not change.active:
            self.unsettled = set(names)

    def settle(self, name: str, state: State, verdict: Verdict | None, url: str) -> None:
        """Alert for ``name``'s fresh state if a local problem held that news back."""
        if name not in self.unsettled or self.policy.local or name in self.acked:
            return
        self.unsettled.discard(name)
        for _, told in self.policy.reconcile({name: state}):
            event = TransitionEvent(
                at=self.clock(),
                endpoint=name,
                from_state=told,
                to_state=state,
                verdict=verdict,
                reason=f"{state} after the local problem cleared",
            )
            self.dispatcher.send(transition_alert(event, url))

    def forget(self, name: str) -> None:
        self.policy.forget(name)
        self.unsettled.discard(name)
        self.acked.discard(name)

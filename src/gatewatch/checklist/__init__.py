"""The guided troubleshooting checklist: ordered steps, each with an automated check, and the
incident report. No Textual: the board's screen and ``gatewatch diagnose`` both drive it.

- ``steps``     the steps as data, and the order a verdict puts them in;
- ``checks``    each step's check (DNS and TLS in ``network``, Load and Software in ``fleet``);
- ``context``   what a check is given (endpoint, result, past, prober, settings);
- ``runner``    one step off the UI loop (:func:`run_job`), or all (:func:`diagnose_endpoint`);
- ``report``    the Markdown report and the ``--json`` shape; ``curl`` the reproducing command;
- ``redact``    secrets out of everything written; ``export`` files and OSC 52;
- ``progress``  marks, notes and last results per endpoint, kept across restarts;
- ``past``      the endpoint's history, injected (or read from the monitor's);
- the command ``gatewatch diagnose`` lives in :mod:`gatewatch.cli.diagnose`.

Headless::

    diagnosis = await diagnose_endpoint(endpoint, prober=prober, past=Past())
    text = render_report(endpoint, result=diagnosis.result, past=diagnosis.past,
                         steps=diagnosis.steps, results=diagnosis.results, progress=None,
                         redactor=Redactor.for_endpoint(endpoint, os.environ),
                         generated_at=diagnosis.generated_at)

The names below load on first use (PEP 562): ``gatewatch --help`` builds the ``diagnose``
parser from :mod:`gatewatch.cli.diagnose` and must not import the probe to do so.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatewatch.checklist.context import CheckContext, Finding
    from gatewatch.checklist.export import osc52, report_path, write_report
    from gatewatch.checklist.past import Past, from_history
    from gatewatch.checklist.progress import ProgressStore
    from gatewatch.checklist.redact import Redactor
    from gatewatch.checklist.report import diagnosis_json, render_report
    from gatewatch.checklist.results import CheckResult, Mark, Outcome, ProbeRow, Progress
    from gatewatch.checklist.runner import (
        Diagnosis,
        StepJob,
        diagnose_endpoint,
        run_checks,
        run_job,
        run_step,
    )
    from gatewatch.checklist.settings import CheckSettings
    from gatewatch.checklist.steps import BY_ID, STEPS, Step, order_steps

#: Public name → the module that defines it.
_HOME = {
    **dict.fromkeys(("CheckContext", "Finding"), "context"),
    **dict.fromkeys(("osc52", "report_path", "write_report"), "export"),
    **dict.fromkeys(("Past", "from_history"), "past"),
    "ProgressStore": "progress",
    "Redactor": "redact",
    **dict.fromkeys(("diagnosis_json", "render_report"), "report"),
    **dict.fromkeys(("CheckResult", "Mark", "Outcome", "ProbeRow", "Progress"), "results"),
    **dict.fromkeys(
        ("Diagnosis", "StepJob", "diagnose_endpoint", "run_checks", "run_job", "run_step"),
        "runner",
    ),
    "CheckSettings": "settings",
    **dict.fromkeys(("BY_ID", "STEPS", "Step", "order_steps"), "steps"),
}

__all__ = [
    "BY_ID",
    "STEPS",
    "CheckContext",
    "CheckResult",
    "CheckSettings",
    "Diagnosis",
    "Finding",
    "Mark",
    "Outcome",
    "Past",
    "ProbeRow",
    "Progress",
    "ProgressStore",
    "Redactor",
    "Step",
    "StepJob",
    "diagnose_endpoint",
    "diagnosis_json",
    "from_history",
    "order_steps",
    "osc52",
    "render_report",
    "report_path",
    "run_checks",
    "run_job",
    "run_step",
    "write_report",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value

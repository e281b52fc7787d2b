"""``gatewatch exporter``: blackbox_exporter's ``/probe`` vocabulary plus the diagnosis.

Layers: ``targets`` (what may be probed, the SSRF rule, the deadline), ``blackbox`` and
``diagnosis`` (a ProbeResult as metrics; pure), ``collectors`` (prometheus_client custom
collectors), ``service`` (the two paths as functions), ``server`` (HTTP, thin). Never
imports Textual or the lab.
"""

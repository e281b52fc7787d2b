"""ProbeResult(s) → Verdict: which hop broke and why. Pure functions over data.

This package never does I/O, never reads a clock and never imports Textual or the
probe: it reads results that others produced, so every rule is a unit test over data.

- ``gateways``  the fingerprint table: markers, and templates in matching order;
  its rows are in ``proxies`` (nginx, HAProxy, Envoy …) and ``platforms`` (CDNs,
  clouds), their types in ``fingerprint``;
- ``identify``  walks it: who generated a response, who relayed it;
- ``rules``     the ordered rules (``RULES``) and ``diagnose``;
- ``hops``, ``history``  rules read from the hops and from the endpoint's past;
- ``advice``, ``timeouts``  next steps and default timeouts as data;
- ``annotate``  sets the verdict and names the gateway on the proxy hop.
"""

from __future__ import annotations

from gatewatch.diagnose.annotate import annotate
from gatewatch.diagnose.identify import Identification, identify
from gatewatch.diagnose.rules import RULES, diagnose

__all__ = ["RULES", "Identification", "annotate", "diagnose", "identify"]

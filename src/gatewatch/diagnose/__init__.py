"""ProbeResult(s) → Verdict: which hop broke and why. Pure functions over data.

This package never does I/O, never reads a clock and never imports Textual or the
probe: it reads results that others produced, so every rule is a unit test over data.

- ``gateways``  the fingerprint table: markers, and templates in matching order;
  its rows are in ``proxies`` (nginx, HAProxy, Envoy …), ``forward`` (Squid) and
  ``platforms`` (CDNs, clouds), their types in ``fingerprint``;
- ``signals``   what gateways say in headers, read before any page: ``proxy_status``
  (RFC 9209, parsed with ``structured``, RFC 8941), Envoy flags, Cloudflare codes;
- ``identify``  walks them: who generated a response, who relayed it; for a gateway in
  no table, ``tiers`` (tokens, path identity, generic pages) and ``unknown`` (inference);
- ``followup``  the one debug request a vendor documents, and how to read its answer;
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

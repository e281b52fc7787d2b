"""One probe of one endpoint → ProbeResult, hop by hop. No UI, no scheduling.

from gatewatch.probe import Prober
prober = Prober()
await prober.warm_up()
result = await prober.probe(endpoint)   # never raises for network failures
"""

from gatewatch.probe.engine import Prober, ProbeSetupError, environment_proxy, probe

__all__ = ["ProbeSetupError", "Prober", "environment_proxy", "probe"]

"""Fingerprints of CDNs, cloud load balancers and platforms: Cloudflare, AWS (ALB,
CloudFront, API Gateway), Google, Azure, Akamai, Vercel, Netlify, Heroku, IIS ARR.

Written from the vendor documentation cited on each row (gateways.md §2–§3); several
platforms put the cause in an explicit code (Cloudflare 52x, x-vercel-error, IIS
WinHTTP codes), which makes their hints the most certain ones.
"""

from __future__ import annotations

from collections.abc import Mapping

from gatewatch.diagnose.fingerprint import Hint, Template, codes, rx
from gatewatch.diagnose.proxies import NGINX_H1, NGINX_NO_FOOTER

_CLOUDFLARE_CODES = (
    Hint(
        "upstream_refused",
        0.9,
        "Cloudflare 521: the origin refused the connection",
        statuses=codes(521),
    ),
    Hint(
        "upstream_timeout",
        0.9,
        "Cloudflare 522: the TCP connection to the origin timed out",
        statuses=codes(522),
    ),
    Hint(
        "upstream_refused",
        0.8,
        "Cloudflare 523: the origin is unreachable (routing / IP)",
        statuses=codes(523),
    ),
    Hint(
        "upstream_timeout",
        0.9,
        "Cloudflare 524: connected, but the origin sent no HTTP response before the timeout",
        statuses=codes(524),
    ),
    Hint(
        "upstream_tls",
        0.9,
        "Cloudflare 525: the TLS handshake with the origin failed",
        statuses=codes(525),
    ),
    Hint(
        "upstream_tls",
        0.9,
        "Cloudflare 526: the origin's certificate is invalid",
        statuses=codes(526),
    ),
    Hint(
        "upstream_dns",
        0.9,
        "Cloudflare 530 / 1016: origin DNS error",
        statuses=codes(530),
        body=rx(r"\b1016\b"),
    ),
    Hint(
        "upstream_tls",
        0.85,
        "Cloudflare's error_category is ssl",
        body=rx(r'"error_category"\s*:\s*"ssl"'),
    ),
    Hint(
        "gateway_error",
        0.7,
        "Cloudflare's error_category says the error is Cloudflare's own",
        body=rx(r'"error_category"\s*:\s*"cloudflare"'),
    ),
    Hint(
        None,
        0.8,
        "Cloudflare 520: the origin's response was empty, unknown or malformed, or it reset",
        statuses=codes(520),
        candidates=("upstream_invalid_response", "upstream_closed"),
    ),
    Hint(
        None,
        0.6,
        "a Cloudflare 52x/530 page",
        candidates=("upstream_refused", "upstream_timeout", "upstream_tls"),
    ),
)

_VERCEL_CODES = (
    Hint(
        "gateway_error",
        0.8,
        "an INTERNAL_* code is Vercel's own error, not the app's",
        header=("x-vercel-error", rx(r"^\s*INTERNAL_")),
    ),
    Hint(
        "upstream_timeout",
        0.9,
        "the function or rewrite target ran past its time limit",
        header=("x-vercel-error", rx(r"_TIMEOUT\s*$")),
    ),
    Hint(
        "upstream_tls",
        0.75,
        "TLS to the external rewrite target failed (or it took over 120 s)",
        header=("x-vercel-error", rx(r"HANDSHAKE_ERROR")),
        candidates=("upstream_tls", "upstream_timeout"),
    ),
    Hint(
        "upstream_refused",
        0.85,
        "Vercel could not connect to the external rewrite target",
        header=("x-vercel-error", rx(r"CONNECTION_ERROR")),
    ),
    Hint(
        "upstream_dns",
        0.9,
        "the target host name did not resolve",
        header=("x-vercel-error", rx(r"^\s*DNS_HOSTNAME_")),
    ),
    Hint(
        "upstream_closed",
        0.85,
        "the function returned no response",
        header=("x-vercel-error", rx(r"NO_RESPONSE_FROM_FUNCTION")),
    ),
    Hint(
        "upstream_invalid_response",
        0.85,
        "the function's response body was not a string",
        header=("x-vercel-error", rx(r"BODY_NOT_A_STRING_FROM_FUNCTION")),
    ),
    Hint(
        "app_error",
        0.85,
        "the function threw (an application error per Vercel's docs)",
        header=("x-vercel-error", rx(r"FUNCTION_INVOCATION_FAILED")),
    ),
    Hint(
        None,
        0.6,
        "a Vercel error code",
        candidates=("upstream_refused", "upstream_closed", "upstream_timeout"),
    ),
)

PAGES: Mapping[str, Template] = {
    t.name: t
    for t in (
        Template(
            "vercel-error",
            "vercel",
            "a Vercel error (x-vercel-error header)",
            "[doc] vercel.com/docs/errors",
            headers=("x-vercel-error",),
            hints=_VERCEL_CODES,
        ),
        Template(
            "cloudflare-5xx",
            "cloudflare",
            "Cloudflare's {status} error",
            "[doc] developers.cloudflare.com/support/troubleshooting/http-status-codes/"
            "cloudflare-5xx-errors/",
            statuses=codes(520, 521, 522, 523, 524, 525, 526, 527, 530),
            markers=frozenset({"cloudflare"}),
            hints=_CLOUDFLARE_CODES,
        ),
        Template(
            "cloudflare-branded-origin-error",
            "cloudflare",
            "a Cloudflare-branded {status} page",
            "[doc] developers.cloudflare.com/support/troubleshooting/http-status-codes/"
            "cloudflare-5xx-errors/error-502-504/",
            body=(rx(r"(?i)cf-error-details|Cloudflare Ray ID"),),
            statuses=codes(502, 504),
            passthrough=True,
            confidence=0.8,
            hints=(
                Hint(
                    "app_error",
                    0.75,
                    "Cloudflare brands the page when the origin itself returned this error",
                ),
            ),
        ),
        Template(
            "heroku-application-error",
            "heroku",
            "Heroku's router error page",
            "[doc] devcenter.heroku.com/articles/error-pages",
            body=(rx(r"herokucdn\.com/error-pages/application-error\.html"),),
            hints=(
                Hint(
                    None,
                    0.4,
                    "the Heroku router sends this one page for every router error; the H-code "
                    "in the router log says which",
                    candidates=(
                        "no_healthy_upstream",
                        "upstream_timeout",
                        "upstream_closed",
                        "upstream_refused",
                        "rate_limited",
                    ),
                ),
            ),
        ),
        Template(
            "iis-arr-502.3",
            "iis-arr",
            "IIS ARR's 502.3 page",
            "[doc] learn.microsoft.com/troubleshoot/developer/webapps/iis/"
            "application-request-routing/troubleshooting-502-errors-in-arr",
            body=(rx(r"HTTP Error 502\.3 - Bad Gateway"),),
            excerpt=rx(r"(0x8007[0-9a-fA-F]{4})"),
            hints=(
                Hint(
                    "upstream_timeout",
                    0.85,
                    "0x80072ee2 = WinHTTP 12002: the backend timed out",
                    body=rx(r"(?i)0x80072ee2"),
                ),
                Hint(
                    "upstream_refused",
                    0.85,
                    "0x80072efd = WinHTTP 12029: ARR could not connect to the backend",
                    body=rx(r"(?i)0x80072efd"),
                ),
                Hint(
                    "upstream_invalid_response",
                    0.85,
                    "0x80072f78 = WinHTTP 12152: the backend's response was invalid",
                    body=rx(r"(?i)0x80072f78"),
                ),
                Hint(
                    None,
                    0.6,
                    "ARR could not get a response from the backend",
                    candidates=(
                        "upstream_refused",
                        "upstream_timeout",
                        "upstream_invalid_response",
                    ),
                ),
            ),
        ),
        Template(
            "iis-ancm-502.5",
            "iis-arr",
            "the ASP.NET Core Module's 502.5 page",
            "[doc] learn.microsoft.com (ANCM 502.5 Process Failure)",
            body=(rx(r"HTTP Error 502\.5"),),
            hints=(
                Hint(
                    "no_healthy_upstream",
                    0.8,
                    "502.5 Process Failure: the app process did not start",
                ),
            ),
        ),
        Template(
            "iis-arr-502",
            "iis-arr",
            "IIS's generic 502 page",
            "[doc] learn.microsoft.com/troubleshoot/developer/webapps/iis/"
            "application-request-routing/troubleshooting-502-errors-in-arr",
            body=(rx(r"502 - Web server received an invalid response while acting as a gateway"),),
            hints=(
                Hint(
                    None,
                    0.5,
                    "IIS's generic gateway error",
                    candidates=(
                        "upstream_refused",
                        "upstream_timeout",
                        "upstream_invalid_response",
                    ),
                ),
            ),
        ),
        Template(
            "cloudfront-error",
            "cloudfront",
            "CloudFront's {status} error page",
            "[doc] docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
            "troubleshooting-response-errors.html",
            body=(rx(r"(?i)Generated by cloudfront|The request could not be satisfied"),),
            hints=(
                Hint(
                    "upstream_dns",
                    0.9,
                    "CloudFront could not resolve the origin's name",
                    body=rx(r"(?i)resolve the origin domain name"),
                ),
                Hint(
                    "upstream_tls",
                    0.75,
                    "CloudFront names a TLS problem with the origin",
                    body=rx(r"(?i)\b(ssl|tls)\b|certificate"),
                ),
                Hint(
                    "upstream_timeout",
                    0.8,
                    "CloudFront's 504: the origin did not answer within the origin response "
                    "timeout (or a firewall drops CloudFront)",
                    statuses=codes(504),
                ),
                Hint(
                    None,
                    0.55,
                    "CloudFront's 502: it could not connect or negotiate TLS",
                    statuses=codes(502),
                    candidates=("upstream_refused", "upstream_tls"),
                ),
                Hint(
                    None,
                    0.4,
                    "CloudFront's 503: capacity or Lambda@Edge limits",
                    statuses=codes(503),
                    candidates=("rate_limited", "app_error"),
                ),
            ),
        ),
        Template(
            "aws-apigateway-json",
            "aws-apigateway",
            "API Gateway's own JSON error",
            "[doc] repost.aws/knowledge-center/api-gateway-internal-server-error",
            body=(rx(r'"message"\s*:\s*"(Internal server error|Endpoint request timed out)"'),),
            markers=frozenset({"aws-apigateway"}),
            excerpt=rx(r'"message"\s*:\s*"([^"]*)"'),
            hints=(
                Hint(
                    "upstream_timeout",
                    0.9,
                    "the integration passed API Gateway's 29 s limit",
                    body=rx(r"Endpoint request timed out"),
                ),
                Hint(
                    "upstream_invalid_response",
                    0.7,
                    "API Gateway's 502: the Lambda proxy response was malformed (statusCode, body)",
                    statuses=codes(502),
                ),
                Hint(
                    None,
                    0.4,
                    "API Gateway's own error",
                    candidates=("upstream_invalid_response", "app_error"),
                ),
            ),
        ),
        Template(
            "gcp-gfe",
            "gcp-lb",
            "Google Front End's {status} page",
            "[doc] cloud.google.com/load-balancing/docs/https/troubleshooting-ext-https-lbs",
            body=(rx(r"<title>Error \d{3} \(Server Error\)!!1</title>"),),
            hints=(
                Hint(
                    None,
                    0.45,
                    "the Google load balancer sends this page for nearly every backend problem; "
                    "statusDetails in its log says which",
                    candidates=(
                        "upstream_refused",
                        "no_healthy_upstream",
                        "upstream_closed",
                        "upstream_timeout",
                    ),
                ),
            ),
        ),
        Template(
            "akamai-reference",
            "akamai",
            "Akamai's edge error page",
            "[obs] Akamai error pages with Reference #; [doc] IBM Cloud CDN ts-503-error",
            body=(rx(r"Reference(?:\s|&#32;)(?:#|&#35;)\d+(?:\.|&#46;)[0-9a-fA-F]+"),),
            excerpt=rx(r"(Reference(?:\s|&#32;)(?:#|&#35;)[0-9a-fA-F.&#;]{4,80})"),
            hints=(
                Hint(
                    "upstream_timeout",
                    0.75,
                    "Akamai got no timely response from the origin",
                    body=rx(r"(?i)did not receive a timely response"),
                ),
                Hint(
                    None,
                    0.35,
                    "Akamai's page needs its Error Translator to say why",
                    candidates=("upstream_tls", "upstream_refused", "upstream_timeout"),
                ),
            ),
        ),
        Template(
            "azure-frontdoor",
            "azure-frontdoor",
            "Azure Front Door's {status} page",
            "[doc] learn.microsoft.com/azure/frontdoor/front-door-troubleshoot-routing",
            body=(rx(r"(?i)our services aren.t available right now|front door"),),
            statuses=codes(502, 503, 504),
            markers=frozenset({"azure-frontdoor"}),
            confidence=0.7,
            hints=(
                Hint(
                    "upstream_timeout",
                    0.7,
                    "Front Door answers 503 when the origin passes its response timeout (30 s)",
                    statuses=codes(503),
                    elapsed_s=((28.5, 35.0),),
                ),
                Hint(
                    None,
                    0.4,
                    "Front Door could not get a response from the origin",
                    candidates=("no_healthy_upstream", "upstream_tls", "upstream_timeout"),
                ),
            ),
        ),
        Template(
            "cloudflare-plain",
            "cloudflare",
            "Cloudflare's own plain {status} page",
            "[doc] developers.cloudflare.com …/error-502-504/ (plain 'cloudflare' page)",
            body=(NGINX_H1, rx(r"<hr><center>cloudflare</center>")),
            hints=(
                Hint(
                    "gateway_error",
                    0.8,
                    "the plain 'cloudflare' page means the error is inside Cloudflare",
                ),
            ),
        ),
        Template(
            "azure-appgw",
            "azure-appgw",
            "Azure Application Gateway's {status} page",
            "[doc] learn.microsoft.com/azure/application-gateway/"
            "application-gateway-troubleshooting-502",
            body=(NGINX_H1, rx(r"<hr><center>Microsoft-Azure-Application-Gateway[^<]*</center>")),
            hints=(
                Hint(
                    None,
                    0.5,
                    "Application Gateway sends 502 for an empty or unhealthy pool, a request "
                    "timeout, blocked traffic and backend certificate mismatch",
                    candidates=("no_healthy_upstream", "upstream_timeout", "upstream_tls"),
                ),
            ),
        ),
        Template(
            "aws-alb",
            "aws-alb",
            "the ALB's {status} page (nginx's layout without a footer)",
            "[doc] awsdocs elb-application-load-balancers-user-guide "
            "load-balancer-troubleshooting.md",
            body=(NGINX_NO_FOOTER,),
            markers=frozenset({"aws-alb"}),
            hints=(
                Hint(
                    "upstream_timeout",
                    0.8,
                    "the ALB's 504: connect timeout (10 s) or idle timeout (60 s) to the target, "
                    "or a Lambda target that ran past its timeout",
                    statuses=codes(504),
                ),
                Hint(
                    "no_healthy_upstream",
                    0.75,
                    "the ALB's 503: no registered targets (it fails open when all are unhealthy)",
                    statuses=codes(503),
                ),
                Hint(
                    "waf_block",
                    0.75,
                    "the ALB's own 403: AWS WAF (or a listener rule) blocked the request",
                    statuses=codes(403),
                ),
                Hint(
                    "gateway_error",
                    0.7,
                    "the ALB's own 500: it could not get a decision from AWS WAF, or its "
                    "authenticate action failed",
                    statuses=codes(500),
                ),
                Hint(
                    "gateway_error",
                    0.7,
                    "ALB 460: the client closed the connection before the idle timeout",
                    statuses=codes(460),
                ),
                Hint(
                    "gateway_misconfigured",
                    0.75,
                    "ALB 463: X-Forwarded-For holds more than 30 addresses (a forwarding loop?)",
                    statuses=codes(463),
                ),
                Hint(
                    "gateway_misconfigured",
                    0.75,
                    "ALB 561: the identity provider's answer to the authenticate action was an "
                    "error",
                    statuses=codes(561),
                ),
                Hint(
                    None,
                    0.55,
                    "the ALB's 502: the target refused, reset or closed, answered malformed, or "
                    "failed TLS; also a deregistered target whose deregistration delay elapsed "
                    "mid-request, a Lambda target's response over 1 MB, or a target's "
                    "Content-Length larger than its body",
                    statuses=codes(502),
                    candidates=(
                        "upstream_refused",
                        "upstream_closed",
                        "upstream_invalid_response",
                        "upstream_tls",
                    ),
                ),
            ),
        ),
        Template(
            "netlify-empty",
            "netlify",
            "Netlify's empty {status} reply",
            "[obs] answers.netlify.com (platform 502s with an empty body)",
            statuses=codes(502, 504),
            markers=frozenset({"netlify"}),
            empty_body=True,
            confidence=0.6,
            hints=(
                Hint(
                    None,
                    0.35,
                    "a Netlify function or proxy-rewrite failure",
                    candidates=("upstream_timeout", "upstream_refused", "app_error"),
                ),
            ),
        ),
    )
}

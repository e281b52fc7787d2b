"""What gateways send when their upstream fails, as Response fixtures.

nginx and HAProxy bodies are the ones captured from the real servers (gateways.md §1,
byte for byte: nginx's 502 is 157 bytes, HAProxy's 107, as captured). Every other
vendor's page is written from the documentation or source cited next to it
(gateways.md §2); those are recognisable reconstructions, not captures.
"""

from __future__ import annotations

from diagnose_factory import response
from gatewatch.model import Response

DATE = ("Date", "Tue, 24 Nov 2026 10:00:00 GMT")

NGINX_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
    404: "Not Found",
}


def nginx_body(status: int, footer: str | None = "nginx/1.22.1") -> str:
    """[src] nginx src/http/ngx_http_special_response.c: page + error_tail (CRLF lines)."""
    title = f"{status} {NGINX_REASONS[status]}"
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
    page += f"<center><h1>{title}</h1></center>\r\n"
    if footer is not None:
        page += f"<hr><center>{footer}</center>\r\n"
    return page + "</body>\r\n</html>\r\n"


def nginx(
    status: int,
    *,
    server: str = "nginx/1.22.1",
    footer: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> Response:
    """[lab] gateways.md §1: nginx's own page, Server and Date set, mixed-case names."""
    body = nginx_body(status, footer or server)
    return response(
        status,
        NGINX_REASONS[status],
        [
            ("Server", server),
            DATE,
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
            ("Connection", "keep-alive"),
            *extra,
        ],
        body,
    )


HAPROXY_SENTENCES = {
    429: ("Too Many Requests", "You have sent too many requests in a given amount of time."),
    502: ("Bad Gateway", "The server returned an invalid or incomplete response."),
    503: ("Service Unavailable", "No server is available to handle this request."),
    504: ("Gateway Time-out", "The server didn't respond in time."),
}


def haproxy_body(status: int) -> str:
    """[src] haproxy src/http.c http_err_msgs[] (quoted in gateways.md §1)."""
    reason, sentence = HAPROXY_SENTENCES[status]
    return f"<html><body><h1>{status} {reason}</h1>\n{sentence}\n</body></html>\n"


def haproxy(status: int) -> Response:
    """[lab] HAProxy 2.6's own page: no Server, no Date, lower-case names, no-cache."""
    body = haproxy_body(status)
    return response(
        status,
        HAPROXY_SENTENCES[status][0],
        [
            ("content-length", str(len(body))),
            ("cache-control", "no-cache"),
            ("content-type", "text/html"),
        ],
        body,
    )


def nginx_chain_haproxy_alldown() -> Response:
    """[lab] #27 nginx → HAProxy, all servers down: HAProxy's 503 under Server: nginx."""
    body = haproxy_body(503)
    return response(
        503,
        "Service Unavailable",
        [
            ("Server", "nginx/1.22.1"),
            DATE,
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
            ("Connection", "keep-alive"),
            ("cache-control", "no-cache"),
        ],
        body,
    )


def haproxy_chain_nginx_refused() -> Response:
    """[lab] #28 HAProxy → nginx (refused): nginx's 502 relayed with lower-case names."""
    body = nginx_body(502)
    return response(
        502,
        "Bad Gateway",
        [
            ("server", "nginx/1.22.1"),
            ("date", DATE[1]),
            ("content-type", "text/html"),
            ("content-length", str(len(body))),
        ],
        body,
    )


def nginx_app502_json() -> Response:
    """[lab] #25: the app's own 502 + JSON; nginx hid the app's Server (gunicorn)."""
    body = '{"error": "payment provider unavailable", "code": "PSP_DOWN"}'
    return response(
        502,
        "Bad Gateway",
        [
            ("Server", "nginx/1.22.1"),
            DATE,
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "keep-alive"),
        ],
        body,
    )


def nginx_app503_retry_after() -> Response:
    """[lab] #26: the app's 503 + Retry-After: 30, relayed with the app's reason phrase."""
    body = "<h1>Down for maintenance</h1>"
    return response(
        503,
        "Service Unavailable",
        [
            ("Server", "nginx/1.22.1"),
            DATE,
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", "30"),
        ],
        body,
    )


def haproxy_app502() -> Response:
    """[lab] #25 via HAProxy: relayed unchanged, server: gunicorn, names lower-cased."""
    body = '{"detail": "upstream payment failure"}'
    return response(
        502,
        "Bad Gateway",
        [
            ("server", "gunicorn"),
            ("date", DATE[1]),
            ("content-type", "application/json"),
            ("content-length", str(len(body))),
        ],
        body,
    )


# --------------------------------------------------------------------------- other vendors


def envoy(status: int, body: str, *extra: tuple[str, str]) -> Response:
    """[src] envoy router.cc local replies: text/plain, no x-envoy-upstream-service-time."""
    reasons = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return response(
        status,
        reasons[status],
        [
            ("content-length", str(len(body))),
            ("content-type", "text/plain"),
            ("date", DATE[1]),
            ("server", "envoy"),
            *extra,
        ],
        body,
        http_version="HTTP/2",
    )


ENVOY_REFUSED = (
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "failure, transport failure reason: delayed connect error: 111"
)
ENVOY_TLS = (
    "upstream connect error or disconnect/reset before headers. retried and the latest reset "
    "reason: remote connection failure, transport failure reason: TLS_error:|268435581:SSL "
    "routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end"
)
ENVOY_TERMINATION = (
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "termination"
)
ENVOY_OVERFLOW = "upstream connect error or disconnect/reset before headers. reset reason: overflow"


def kong(status: int, message: str) -> Response:
    """[doc] Kong default s502/s503/s504 messages; Kong-generated: X-Kong-Response-Latency."""
    body = f'{{\n  "message":"{message}",\n  "request_id":"5c2a0b1e4d7f"\n}}'
    reasons = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return response(
        status,
        reasons[status],
        [
            ("Date", DATE[1]),
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Kong-Response-Latency", "1"),
            ("Server", "kong/3.4.2"),
        ],
        body,
    )


def apache(status: int, reason: str, title: str, text: str) -> Response:
    """[src] apache/httpd proxy_util.c ap_proxyerror + http_protocol.c canned texts."""
    body = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
        f"<title>{status} {title}</title>\n</head><body>\n{text}\n<hr>\n"
        "<address>Apache/2.4.57 (Debian) Server at shop.example Port 443</address>\n"
        "</body></html>\n"
    )
    return response(
        status,
        reason,
        [
            DATE,
            ("Server", "Apache/2.4.57 (Debian)"),
            ("Content-Length", str(len(body))),
            ("Content-Type", "text/html; charset=iso-8859-1"),
        ],
        body,
    )


def apache_proxy_error(status: int, why: str) -> Response:
    text = (
        "<h1>Proxy Error</h1>\n<p>The proxy server received an invalid\nresponse from an "
        "upstream server.<br />\nThe proxy server could not handle the request<p>Reason: "
        f"<strong>{why}</strong></p></p>"
    )
    return apache(status, "Proxy Error", "Proxy Error", text)


APACHE_503_TEXT = (
    "<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your\n"
    "request due to maintenance downtime or capacity\nproblems. Please try again later.</p>"
)


def varnish_body(status: int, reason: str, guru: str = "Meditation") -> str:
    """[src] varnish-cache builtin.vcl vcl_builtin_synth (Fastly spells it 'Mediation')."""
    return (
        f"<!DOCTYPE html>\n<html>\n  <head>\n    <title>{status} {reason}</title>\n  </head>\n"
        f"  <body>\n    <h1>Error {status} {reason}</h1>\n    <p>{reason}</p>\n"
        f"    <h3>Guru {guru}:</h3>\n    <p>XID: 32770</p>\n    <hr>\n"
        "    <p>Varnish cache server</p>\n  </body>\n</html>\n"
    )


def varnish_503() -> Response:
    body = varnish_body(503, "Backend fetch failed")
    return response(
        503,
        "Backend fetch failed",
        [
            DATE,
            ("Server", "Varnish"),
            ("X-Varnish", "32770"),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Retry-After", "5"),
            ("Via", "1.1 cache01 (Varnish/7.1)"),
            ("Content-Length", str(len(body))),
        ],
        body,
    )


def fastly_503(reason: str) -> Response:
    """[doc] docs.fastly.com/en/guides/common-503-errors: 'Error 503 <reason>'."""
    body = varnish_body(503, reason, guru="Mediation")
    return response(
        503,
        reason,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Retry-After", "5"),
            ("Via", "1.1 varnish"),
            ("X-Served-By", "cache-ams21080-AMS"),
            ("X-Cache", "MISS"),
            ("X-Timer", "S1764000000.1,VS0,VE15001"),
            ("Content-Length", str(len(body))),
        ],
        body,
    )


def cloudflare_52x(status: int, title: str) -> Response:
    """[doc] developers.cloudflare.com cloudflare-5xx-errors: branded page, Error code 52x."""
    body = (
        f'<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<title>shop.example | {status}: '
        f'{title}</title>\n</head>\n<body>\n<div id="cf-wrapper">\n'
        '<div id="cf-error-details" class="p-0">\n<h1><span class="inline-block">'
        f'{title}</span>\n<span class="code-label">Error code {status}</span></h1>\n'
        '<span class="cf-footer-item">Cloudflare Ray ID: <strong class="font-semibold">'
        "8a1b2c3d4e5f6789</strong></span>\n</div>\n</div>\n</body>\n</html>\n"
    )
    return response(
        status,
        title,
        [
            DATE,
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Server", "cloudflare"),
            ("CF-RAY", "8a1b2c3d4e5f6789-AMS"),
        ],
        body,
    )


def cloudflare_json(status: int, category: str) -> Response:
    """[doc] developers.cloudflare.com/fundamentals/reference/error-responses/ (RFC 9457)."""
    body = (
        f'{{"type":"https://developers.cloudflare.com/support/troubleshooting/http-status-codes/'
        f'cloudflare-5xx-errors/error-{status}/","title":"Error {status}","status":{status},'
        f'"error_code":{status},"error_category":"{category}","retryable":true}}'
    )
    return response(
        status,
        "",
        [
            DATE,
            ("Content-Type", "application/problem+json"),
            ("Server", "cloudflare"),
            ("CF-RAY", "8a1b2c3d4e5f6789-AMS"),
            ("Retry-After", "30"),
        ],
        body,
        http_version="HTTP/2",
    )


def cloudfront(status: int, sentence: str) -> Response:
    """[doc] AmazonCloudFront DeveloperGuide troubleshooting-response-errors, http-502-dns-error."""
    body = (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<HTML><HEAD>'
        "<TITLE>ERROR: The request could not be satisfied</TITLE>\n</HEAD><BODY>\n"
        f"<H1>{status} ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n"
        f'<HR noshade size="1px">\n{sentence}\n<BR clear="all">\n<HR noshade size="1px">\n'
        "<PRE>\nGenerated by cloudfront (CloudFront)\nRequest ID: Xk3q9Zr0vA==\n</PRE>\n"
        "</BODY></HTML>"
    )
    return response(
        status,
        "",
        [
            ("Content-Type", "text/html"),
            ("Server", "CloudFront"),
            DATE,
            ("X-Cache", "Error from cloudfront"),
            ("Via", "1.1 3f1d.cloudfront.net (CloudFront)"),
            ("X-Amz-Cf-Pop", "AMS1-P1"),
            ("X-Amz-Cf-Id", "Xk3q9Zr0vA=="),
        ],
        body,
        http_version="HTTP/2",
    )


def alb(status: int, reason: str) -> Response:
    """[doc] awsdocs ELB guide: the ALB's page is nginx's layout without the footer."""
    title = f"{status} {reason}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return response(
        status,
        reason,
        [
            ("Server", "awselb/2.0"),
            DATE,
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
            ("Connection", "keep-alive"),
        ],
        body,
    )


def gcp_502() -> Response:
    """[doc] cloud.google.com load-balancing troubleshooting: the GFE '!!1' page."""
    body = (
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
        "  <title>Error 502 (Server Error)!!1</title>\n"
        "  <p><b>502.</b> <ins>That’s an error.</ins>\n  <p>The server encountered a "
        "temporary error and could not complete your request.<p>Please try again in 30 "
        "seconds.  <ins>That’s all we know.</ins>\n"
    )
    return response(
        502,
        "Bad Gateway",
        [
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Length", str(len(body.encode()))),
            DATE,
            ("Via", "1.1 google"),
        ],
        body,
    )


def azure_appgw_502() -> Response:
    """[doc] learn.microsoft.com application-gateway-troubleshooting-502."""
    server = "Microsoft-Azure-Application-Gateway/v2"
    body = nginx_body(502, footer=server)
    return response(
        502,
        "Bad Gateway",
        [
            ("Server", server),
            DATE,
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
        ],
        body,
    )


def azure_frontdoor_503() -> Response:
    """[doc] learn.microsoft.com front-door-troubleshoot-routing (503 at the origin timeout)."""
    body = (
        "<!DOCTYPE html><html><head><title>Service unavailable</title></head><body>"
        "<h2>Our services aren't available right now</h2><p>We're working to restore all "
        "services as soon as possible. Please check back soon.</p>"
        "0dHq9ZwAAAAB7w2w1yA</body></html>"
    )
    return response(
        503,
        "Service Unavailable",
        [
            ("Content-Type", "text/html"),
            DATE,
            ("X-Azure-Ref", "0dHq9ZwAAAAB7w2w1yAAMS31EDGE0312"),
            ("X-Cache", "CONFIG_NOCACHE"),
        ],
        body,
    )


def akamai_504() -> Response:
    """[obs] Akamai edge page with its Reference # (gateways.md §2 Akamai row)."""
    body = (
        "<HTML><HEAD>\n<TITLE>Gateway Timeout</TITLE>\n</HEAD><BODY>\n<H1>Gateway Timeout</H1>\n"
        "The proxy server did not receive a timely response from the upstream server.<P>\n"
        "Reference&#32;&#35;1&#46;5a1d3e17&#46;1764000000&#46;2f6b3c4d\n</BODY></HTML>\n"
    )
    return response(
        504,
        "Gateway Time-out",
        [
            ("Server", "AkamaiGHost"),
            ("Mime-Version", "1.0"),
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
            DATE,
        ],
        body,
    )


def vercel(status: int, code: str) -> Response:
    """[doc] vercel.com/docs/errors: x-vercel-error names the code."""
    body = f"An error occurred with your deployment\n\n{code}\n\nfra1::iad1::8x2kq-1764000000000\n"
    return response(
        status,
        "",
        [
            ("cache-control", "public, max-age=0, must-revalidate"),
            ("content-type", "text/plain; charset=utf-8"),
            ("server", "Vercel"),
            ("x-vercel-error", code),
            ("x-vercel-id", "fra1::iad1::8x2kq-1764000000000"),
        ],
        body,
        http_version="HTTP/2",
    )


def netlify_502() -> Response:
    """[obs] answers.netlify.com: platform 502s with an empty body."""
    return response(
        502,
        "Bad Gateway",
        [("Server", "Netlify"), ("X-Nf-Request-Id", "01JD3Q7Z2V8R"), ("Content-Length", "0")],
        b"",
    )


def heroku_503() -> Response:
    """[doc] devcenter.heroku.com/articles/error-pages: the Application Error page."""
    body = (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="viewport" content="width=device-'
        'width, initial-scale=1">\n    <meta charset="utf-8">\n    <title>Application Error'
        '</title>\n  </head>\n  <body>\n    <iframe src="//www.herokucdn.com/error-pages/'
        'application-error.html"></iframe>\n  </body>\n</html>\n'
    )
    return response(
        503,
        "Service Unavailable",
        [
            ("Server", "Heroku"),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            DATE,
            ("Via", "1.1 heroku-router"),
        ],
        body,
    )


def iis_502_3(code: str) -> Response:
    """[doc] learn.microsoft.com troubleshooting-502-errors-in-arr: HTTP Error 502.3."""
    body = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">\n<html><head>'
        "<title>IIS 10.0 Detailed Error - 502.3 - Bad Gateway</title></head><body>"
        '<div id="content"><div class="content-container"><h3>HTTP Error 502.3 - Bad '
        'Gateway</h3><h4>The operation timed out</h4></div><div class="content-container">'
        "<table><tr><th>Module</th><td>ApplicationRequestRouting</td></tr><tr><th>Error "
        f"Code</th><td>{code}</td></tr></table></div></div></body></html>"
    )
    return response(
        502,
        "Bad Gateway",
        [
            ("Content-Type", "text/html"),
            ("Server", "Microsoft-IIS/10.0"),
            ("X-Powered-By", "ARR/3.0"),
            ("X-Powered-By", "ASP.NET"),
            DATE,
        ],
        body,
    )


def traefik(status: int, body: str) -> Response:
    """[src] traefik pkg/proxy/httputil/proxy.go: text/plain status text, no Server."""
    reasons = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return response(
        status,
        reasons[status],
        [("Content-Type", "text/plain; charset=utf-8"), DATE, ("Content-Length", str(len(body)))],
        body,
    )


def caddy_502() -> Response:
    """[src] caddy reverseproxy.go: the default error response has an empty body."""
    return response(502, "Bad Gateway", [("Server", "Caddy"), DATE, ("Content-Length", "0")])


def apigateway_504() -> Response:
    """[doc] repost.aws api-gateway 504 'Endpoint request timed out' (29 s limit)."""
    body = '{"message": "Endpoint request timed out"}'
    return response(
        504,
        "Gateway Timeout",
        [
            DATE,
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", "8f1f0c1e-4b7e-4c3b-9c1e-1f2e3d4c5b6a"),
            ("x-amzn-ErrorType", "InternalServerErrorException"),
            ("x-amz-apigw-id", "Vx1kQFr4oAMF0Aw="),
        ],
        body,
    )


def squid_503(code: str = "ERR_CONNECT_FAIL 111") -> Response:
    """[lab] squid 5.7 as a forward proxy, http:// to an origin that refuses."""
    body = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN">\n<html><head>\n'
        "<title>ERROR: The requested URL could not be retrieved</title>\n</head><body>"
        "<h1>ERROR</h1><h2>The requested URL could not be retrieved</h2>"
        "<p>The system returned: <i>(111) Connection refused</i></p></body></html>"
    )
    return response(
        503,
        "Service Unavailable",
        [
            ("Server", "squid/5.7"),
            ("Mime-Version", "1.0"),
            DATE,
            ("Content-Type", "text/html;charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Squid-Error", code),
            ("Via", "1.1 vm (squid/5.7)"),
        ],
        body,
    )

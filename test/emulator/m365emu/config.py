"""Every knob of the emulator, in one table that drives the command line, the run-time
POST /_emulator/knobs endpoint, GET /_emulator/config and the README's knob list.

A row: (name, type, default, runtime, help). type is int, float, str, bool, a tuple of
allowed strings, or "list" (repeatable option). runtime=True knobs may be changed while
the emulator runs; data-shaping knobs may not, because blob contents must stay a pure
function of (seed, tenant, content type, blob index) for the served-id accounting.
"""
import argparse

CONTENT_TYPES = ("Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint",
                 "Audit.General", "DLP.All")

KNOBS = [
    # -- listener --
    ("host", str, "127.0.0.1", False, "Address to listen on."),
    ("port", int, 0, False, "Port; 0 picks a free one (printed in the ready line)."),
    ("ipv6", bool, False, False, "Also listen on ::1 (its own port, printed as url6)."),
    ("tls_cert", str, "", False, "PEM certificate (chain) for TLS: used for CONNECT tunnels "
     "(the emulator as an intercepting proxy for national-cloud host names) and with --https."),
    ("tls_key", str, "", False, "PEM private key of --tls-cert."),
    ("https", bool, False, False, "Serve TLS on the main listener (needs --tls-cert/--tls-key)."),
    ("stop_on_stdin_eof", bool, False, False, "Exit when stdin reaches end of file (the parent died or closed it)."),
    ("access_log", bool, False, True, "Log every request on stderr."),
    ("log_size", int, 50000, False, "Requests kept in the request log ring (GET /_emulator/log)."),
    ("cache_mb", int, 256, False, "Memory for rendered blob bodies (LRU); blobs are regenerated on a miss."),
    ("seed", int, 1, False, "Seed of every generated value and of the random faults."),
    ("clock_offset", float, 0.0, False, "Start the emulator clock this many seconds off wall time (clock skew, 5.13)."),
    # -- tenants and the app --
    ("tenants", int, 1, False, "Number of tenants (tenant 0 is northwindlabs, 007071c7-7edc-4d1d-a344-068ca9d75253)."),
    ("tenant_clouds", str, "", False, "Comma list of clouds per tenant index (commercial, gcc, gcc_high, dod, china); "
     "missing entries are commercial. A token request at another cloud's login host gets AADSTS90002."),
    ("client_id", str, "5d9a1b0e-6f3c-4b8e-9a51-2c7e0f4d8a63", False, "The application (client) id registered in every tenant."),
    ("client_secret", str, "annexa-emulator-secret", False, "Its client secret."),
    ("client_cert", "list", [], False, "PEM file with a certificate (or public key) registered on the app; repeatable."),
    ("publisher_id", str, "", True, "The PublisherIdentifier the client is expected to send; stats count calls "
     "without it or with another value."),
    # -- token service --
    ("token_lifetime", int, 3599, True, "Access token lifetime in seconds (real: 60-90 min; use a few seconds to test renewal)."),
    ("token_lifetime_jitter", int, 0, True, "Add 0..N random seconds to each token's lifetime (real tokens vary)."),
    ("expires_in", ("number", "string", "mixed"), "number", True, "v2 expires_in as a JSON number, a numeric string, "
     "or alternating (v1 always sends strings)."),
    ("invalid_client_status", ("401", "400"), "401", True, "HTTP status of invalid_client errors (6.12: 400 documented, 401 usual)."),
    ("assertion_skew", int, 300, True, "Clock skew allowed on client assertion nbf/exp, seconds."),
    ("assertion_clock", ("real", "emulator"), "real", True, "Clock that judges client assertion nbf/exp: wall time "
     "(the client signs with its own clock) or the shifted emulator clock."),
    ("pss_salt", ("digest", "any"), "digest", True, "PS256 salt length: must be 32 (RFC 7518) or any."),
    ("assertion_aud", ("exact", "lenient"), "exact", True, "Assertion aud must be the token URL actually called, "
     "or may also be the login host's issuer form."),
    # -- Management Activity API data --
    ("content_types", str, "", False, "Comma list of content types that get generated data (default: all five)."),
    ("days", float, 1.0, False, "Generated data reaches this many days back from start-up (and keeps coming)."),
    ("records_per_hour", int, 600, False, "Generated records per hour per tenant and content type (0: none)."),
    ("blob_interval", int, 300, False, "Seconds between generated blobs of one stream."),
    ("quirk_rate", float, 0.03, False, "Records with a real-world quirk: numbers as strings, lowercase keys, "
     "IPv6 with port, unknown fields, very long strings."),
    ("dup_rate", float, 0.001, False, "Records repeated inside the same blob (5.18)."),
    ("cross_dup_rate", float, 0.002, False, "Records repeated in the next blob (5.18)."),
    ("dup_blob_rate", float, 0.005, False, "Blobs published again later under a new contentId, whole or partial (5.18)."),
    ("ooo_rate", float, 0.0, False, "Blobs holding records hours older than their neighbours (5.19)."),
    ("late_rate", float, 0.0, False, "Blobs listed only late_delay seconds after their contentCreated (5.19)."),
    ("late_delay", int, 900, False, "Delay of late blobs, seconds."),
    ("expire_after_list_rate", float, 0.0, False, "Blobs that expire once listed: the fetch gets AF20051 (5.16)."),
    ("large_blob_rate", float, 0.0, False, "Blobs of large_blob_records records (5.20)."),
    ("large_blob_records", int, 50000, False, "Records in a large blob."),
    ("large_blob_every", int, 0, False, "Also make every Nth blob of a stream large (0: off): a large blob in any "
     "window of N blob intervals, whatever the hour."),
    ("bad_record_rate", float, 0.0, False, "Array elements that are not records (a string, an object without Id) (5.17/5.23)."),
    ("records", "list", [], False, "JSONL file served verbatim as a tenant's content (repeatable, paired with --content-type)."),
    ("content_type", "list", [], False, "Content type of the matching --records file (one value applies to all)."),
    ("records_tenant", int, 0, False, "Tenant index that gets the --records content."),
    ("records_per_blob", int, 100, False, "Lines of a --records file per blob."),
    ("records_span", int, 3600, False, "--records blobs are spread over this many seconds before start-up."),
    ("generate", bool, False, False, "With --records, keep generating data as well (default: only the files)."),
    # -- Management Activity API behaviour --
    ("subscriptions", ("none", "enabled"), "none", False, "Initial subscription state of every stream."),
    ("history", ("visible", "hidden"), "visible", False, "Blobs created before the first start are listed (the "
     "tenant had a subscription before) or hidden (a new subscription starts empty)."),
    ("cold_start", int, 0, True, "After the first start of a stream nothing is listed for this many seconds (5.10; real: up to 12 h)."),
    ("start_cooldown", int, 0, True, "Refuse a second start within this many seconds with AF429 (0: allow; real: wait 15 min)."),
    ("admin_lock", bool, False, True, "A subscription disabled through the control API stays disabled (AF20023) "
     "even when the client calls start."),
    ("page_size", int, 50, True, "Blob descriptors per subscriptions/content page (5.14)."),
    ("nextpage_header", ("NextPageUri", "NextPageUrl"), "NextPageUri", True, "Paging header name (REF vs TS)."),
    ("nextpage_path", ("v1", "v1.0"), "v1", True, "API path in NextPageUri: /api/v1/ as in the documented example, or /api/v1.0/."),
    ("nextpage_publisher", ("drop", "keep"), "drop", True, "Whether NextPageUri carries PublisherIdentifier (undocumented, 6.7)."),
    ("window", ("strict", "lenient"), "strict", True, "A window over 24 h gets AF20030, or (lenient) a result cut at 24 h."),
    ("horizon_grace", int, 0, True, "Accept startTime up to this many seconds older than 7 days (observed: about 3600)."),
    ("default_window", ("last24h", "today"), "last24h", True, "Window without startTime/endTime: last 24 h (REF) or since 00:00 UTC (TS)."),
    ("time_formats", ("strict", "lenient"), "strict", True, "strict: only the three documented forms; lenient: also Z and fractions."),
    ("blob_expiry", int, 604800, True, "contentExpiration = contentCreated + this many seconds."),
    ("blob_missing_status", ("404", "400", "410"), "404", True, "HTTP status for AF20050 / AF20051."),
    ("list_omit_status", bool, False, True, "subscriptions/list omits status for entries without webhook (as the doc sample)."),
    ("gzip", bool, False, True, "gzip blob and listing bodies when the client sends Accept-Encoding: gzip."),
    ("chunked", bool, False, True, "Send blob bodies with chunked transfer-encoding."),
    ("webhook_allow_http", bool, False, True, "Accept http:// webhook addresses (real service: HTTPS only, AF20021)."),
    ("webhook_interval", float, 5.0, True, "Seconds between two rounds of webhook notifications."),
    ("webhook_dup_rate", float, 0.0, True, "Notification batches sent twice."),
    ("webhook_max_failures", int, 3, True, "Failed notification rounds in a row before the webhook is disabled."),
    # -- throttling --
    ("throttle_rpm", int, 2000, True, "Management API requests per minute per tenant (0: off)."),
    ("throttle_burst", int, 0, True, "Token bucket size (0: same as throttle_rpm)."),
    ("shared_rpm", int, 1000, True, "Requests per minute of the shared pool used by calls without PublisherIdentifier (0: off)."),
    ("af429_status", ("429", "403"), "429", True, "HTTP status carrying AF429 (REF vs the troubleshooting page's 403)."),
    ("af429_retry_after", str, "none", True, "Retry-After on AF429: none (undocumented), auto (time to the next token), or seconds."),
    # -- random faults --
    ("error_rate", float, 0.0, True, "API requests answered by a transient error (500 AF50000/AF50005/AF50006, 503, 408; Graph 503/504)."),
    ("reset_rate", float, 0.0, True, "API responses cut by a connection reset mid-body."),
    ("malformed_rate", float, 0.0, True, "API responses made malformed once (truncated JSON, HTML page with 200, wrong "
     "content type, object instead of array, listing entry without contentUri)."),
    ("slow_rate", float, 0.0, True, "API responses trickled at slow_bps bytes per second."),
    ("slow_bps", int, 2048, True, "Speed of slow responses."),
    ("token_error_rate", float, 0.0, True, "Token requests answered by 503 temporarily_unavailable (AADSTS90033)."),
    # -- Graph --
    ("alerts_per_day", int, 24, False, "Generated alerts_v2 alerts per day per tenant."),
    ("alert_update_rate", float, 0.6, False, "Alerts updated after creation (status new -> inProgress -> resolved, evidence, comments)."),
    ("alert_tie_group", int, 5, False, "Alerts resolved together by one bulk action share one lastUpdateDateTime."),
    ("alert_tie_rate", float, 0.3, False, "Share of alert groups resolved in bulk."),
    ("future_enum_rate", float, 0.1, False, "Alerts whose serviceSource/detectionSource is a member after unknownFutureValue."),
    ("audit_per_hour", int, 30, False, "Generated directoryAudits entries per hour per tenant."),
    ("signins_per_hour", int, 60, False, "Generated signIns per hour per tenant."),
    ("graph_top_max", int, 2000, True, "alerts_v2 $top maximum."),
    ("graph_default_top", int, 100, True, "alerts_v2 page size without $top."),
    ("auditlogs_top_max", int, 1000, True, "directoryAudits/signIns $top maximum (and default page size)."),
    ("graph_top_over", ("error", "clamp"), "error", True, "$top over the maximum: 400 BadRequest or clamp."),
    ("graph_omit_nextlink_rate", float, 0.0, True, "Pages that omit @odata.nextLink though more data exists (reported in the field)."),
    ("graph_security_rpm", int, 150, True, "/security requests per minute per app and tenant (0: off)."),
    ("graph_audit_limit", int, 5, True, "/auditLogs requests per graph_audit_window per app and tenant (0: off)."),
    ("graph_audit_window", int, 10, True, "Window of graph_audit_limit, seconds."),
]

KNOB_INDEX = {row[0]: row for row in KNOBS}


class Config:
    def __init__(self, **overrides):
        for name, _type, default, _rt, _help in KNOBS:
            setattr(self, name, list(default) if isinstance(default, list) else default)
        for k, v in overrides.items():
            self.set(k, v, runtime=False)

    def set(self, name, value, runtime=True):
        row = KNOB_INDEX.get(name)
        if row is None:
            raise ValueError("unknown knob %r" % name)
        _n, typ, _d, can_runtime, _h = row
        if runtime and not can_runtime:
            raise ValueError("knob %r is fixed at start-up" % name)
        setattr(self, name, coerce(typ, value, name))

    def as_dict(self):
        return {row[0]: getattr(self, row[0]) for row in KNOBS}

    def active_content_types(self):
        if not self.content_types:
            return list(CONTENT_TYPES)
        wanted = [c.strip() for c in self.content_types.split(",") if c.strip()]
        bad = [c for c in wanted if c not in CONTENT_TYPES]
        if bad:
            raise ValueError("unknown content type(s): %s" % ", ".join(bad))
        return wanted


def coerce(typ, value, name=""):
    if typ == "list":
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value]
        return [str(value)]
    if isinstance(typ, tuple):
        v = str(value)
        if v not in typ:
            raise ValueError("%s must be one of %s" % (name, ", ".join(typ)))
        return v
    if typ is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("%s must be a boolean" % name)
    if typ is int:
        return int(value)
    if typ is float:
        v = float(value)
        if name.endswith("_rate") and not 0.0 <= v <= 1.0:
            raise ValueError("%s must be between 0 and 1" % name)
        return v
    return str(value)


def build_argparser():
    p = argparse.ArgumentParser(
        prog="m365_emulator.py",
        description="Microsoft 365 emulator: token service, Office 365 Management Activity API and Graph "
                    "(alerts_v2, auditLogs) on loopback. Prints one JSON line when ready.")
    for name, typ, default, _rt, help_text in KNOBS:
        opt = "--" + name.replace("_", "-")
        if typ is bool:
            p.add_argument(opt, dest=name, action="store_true", default=default, help=help_text)
        elif typ == "list":
            p.add_argument(opt, dest=name, action="append", default=[], metavar="VALUE", help=help_text)
        elif isinstance(typ, tuple):
            p.add_argument(opt, dest=name, choices=typ, default=default,
                           help=help_text + " (default %s)" % default)
        else:
            p.add_argument(opt, dest=name, type=typ, default=default,
                           help=help_text + " (default %s)" % (default if default != "" else "empty"))
    return p


def config_from_args(argv=None):
    ns = build_argparser().parse_args(argv)
    cfg = Config()
    for name, typ, _d, _rt, _h in KNOBS:
        setattr(cfg, name, getattr(ns, name))
    if cfg.https and not (cfg.tls_cert and cfg.tls_key):
        raise SystemExit("--https needs --tls-cert and --tls-key")
    cfg.active_content_types()
    return cfg

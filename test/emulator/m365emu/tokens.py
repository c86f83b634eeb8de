"""The Microsoft identity platform token endpoint, app-only (m365-api.md sections 1 and 5.1).

POST /{tenant}/oauth2/v2.0/token  scope={resource}/.default, resource rejected (AADSTS901002)
POST /{tenant}/oauth2/token       v1: resource=..., numbers as strings in the answer
Credentials: client_secret in the form, HTTP Basic, or a JWT client assertion (RS256 + x5t or
PS256 + x5t#S256, signature checked against the registered certificates in pure Python).

Access tokens are HS256 JWTs signed with a per-process secret: JWT-shaped (tid, aud, roles,
appid, iat, nbf, exp...) so clients that peek into them see the usual claims, and checked on
every API call by authenticate().
"""
import base64
import os
import threading
import time
import urllib.parse

from . import crypto
from .response import Resp, token_error
from .tenants import GRAPH_HOSTS, GUID_RE, LOGIN_GROUP, MANAGE_HOSTS, RESOURCES

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenService:
    def __init__(self, emu):
        self.emu = emu
        self.secret = os.urandom(32)
        self.jti_seen = {}
        self.jti_lock = threading.Lock()
        self.counter = 0

    # ---- the endpoint ----

    def handle(self, req, tenant_ref, version):
        emu, cfg = self.emu, self.emu.cfg
        now = emu.clock.now()
        login_host = req.hostname if req.hostname in LOGIN_GROUP else "login.microsoftonline.com"

        def err(status, error, code, text):
            emu.stats.token_error("AADSTS%d" % code)
            return token_error(status, error, code, text, now, login_host)

        if req.method != "POST":
            return err(405, "invalid_request", 900561,
                       "The endpoint only accepts POST, OPTIONS requests. Received a %s request." % req.method)
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = {}
        if ctype == "application/x-www-form-urlencoded":
            try:
                pairs = urllib.parse.parse_qsl(req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                pairs = []
            for k, v in pairs:
                form.setdefault(k, v)

        if tenant_ref.lower() in ("common", "organizations", "consumers"):
            return err(400, "invalid_request", 9001023,
                       "The grant type isn't supported over the /common or /consumers endpoints.")
        tenant = emu.directory.find(tenant_ref) if (GUID_RE.match(tenant_ref) or "." in tenant_ref) else None
        if tenant is not None and tenant.deleted:
            tenant = None
        group = LOGIN_GROUP.get(req.hostname)
        if tenant is None or (group and emu.cloud_group(tenant) != group):
            return err(400, "invalid_request", 90002,
                       "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are "
                       "signing into the correct cloud." % tenant_ref)

        grant = form.get("grant_type")
        if not grant:
            return err(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            return err(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type '%s'." % grant)

        basic_id = basic_secret = None
        auth = req.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                i = raw.index(":")
                basic_id = urllib.parse.unquote_plus(raw[:i])
                basic_secret = urllib.parse.unquote_plus(raw[i + 1:])
            except (ValueError, UnicodeDecodeError):
                return err(400, "invalid_request", 900144, "The Authorization header is malformed.")

        client_id = form.get("client_id") or basic_id
        if not client_id:
            return err(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'client_id'.")
        app = emu.directory.app
        if client_id.lower() != app.client_id.lower() or not tenant.app_present:
            return err(400, "unauthorized_client", 700016,
                       "Application with identifier '%s' was not found in the directory '%s'. This can happen "
                       "if the application has not been installed by the administrator of the tenant or "
                       "consented to by any user in the tenant." % (client_id, tenant.initial_domain))
        if app.disabled:
            return err(400, "unauthorized_client", 7000112, "Application '%s' is disabled." % client_id)

        # resource: v2 scope, v1 resource
        if version == "v2":
            if "resource" in form:
                return err(400, "invalid_request", 901002, "The 'resource' request parameter is not supported.")
            scope = form.get("scope")
            if not scope:
                return err(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.")
            resources = set()
            for s in scope.split():
                if not s.endswith("/.default"):
                    return err(400, "invalid_scope", 70011,
                               "The provided value for the input parameter 'scope' is not valid. The scope %s "
                               "is not valid. Client credential flows must have a scope value with /.default "
                               "suffixed to the resource identifier (application ID URI)." % scope)
                res = s[:-len("/.default")]
                if not res:
                    return err(400, "invalid_scope", 700023, "The provided value for scope is not valid: "
                               "it names no resource.")
                resources.add(res.rstrip("/"))
            if len(resources) > 1:
                return err(400, "invalid_scope", 700022,
                           "The provided value for the input parameter scope is not valid because it contains "
                           "more than one resource. Scope %s is not valid." % scope)
            resource = resources.pop()
        else:
            resource = form.get("resource")
            if not resource:
                return err(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'resource'.")
            resource = resource.rstrip("/")
        known = RESOURCES.get(resource)
        if known is None or (group and known[1] != group):
            return err(400, "invalid_resource", 500011,
                       "The resource principal named %s was not found in the tenant named %s. This can happen "
                       "if the application has not been installed by the administrator of the tenant or "
                       "consented to by any user in the tenant. You might have sent your authentication "
                       "request to the wrong tenant." % (resource, tenant.initial_domain))

        # credentials
        invalid_client_status = int(cfg.invalid_client_status)
        secret = form.get("client_secret")
        if secret is None and basic_secret is not None:
            secret = basic_secret
            method = "secret_basic"
        else:
            method = "secret_form"
        if "client_assertion" in form or "client_assertion_type" in form:
            failure, alg = self._check_assertion(req, form, client_id, tenant_ref)
            if failure:
                status, error, code, text = failure
                if error == "invalid_client":
                    status = invalid_client_status
                return err(status, error, code, text)
            method = "assertion_" + alg
        elif secret is not None:
            if app.secret_expired:
                return err(invalid_client_status, "invalid_client", 7000222,
                           "The provided client secret keys for app '%s' are expired. Visit the Azure portal "
                           "to create new keys for your app." % client_id)
            if secret not in app.secrets:
                return err(invalid_client_status, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being sent in the request is the "
                           "client secret value, not the client secret ID, for a secret added to app '%s'."
                           % client_id)
        else:
            return err(400, "invalid_request", 7000218,
                       "The request body must contain the following parameter: 'client_assertion' or "
                       "'client_secret'.")

        return self._issue(req, tenant, resource, known[0], method, version, group or "local")

    # ---- client assertion ----

    def _check_assertion(self, req, form, client_id, tenant_ref):
        """(None, alg) when the assertion is good, else ((status, error, AADSTS, text), alg)."""
        failure = self._assertion_failure(req, form, client_id, tenant_ref)
        if isinstance(failure, str):
            return None, failure
        return failure, None

    def _assertion_failure(self, req, form, client_id, tenant_ref):
        cfg = self.emu.cfg
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return 400, "invalid_request", 900144, ("The request body must contain the following parameter: "
                                                    "'client_assertion_type' with value '%s'." % ASSERTION_TYPE)
        assertion = form.get("client_assertion") or ""
        try:
            header, claims, signing_input, sig = crypto.jwt_split(assertion)
        except crypto.CryptoError as e:
            return 400, "invalid_request", 50027, "JWT token is invalid or malformed (%s)." % e
        alg = header.get("alg")
        if header.get("typ") not in (None, "JWT", "jwt"):
            return 400, "invalid_request", 50027, "JWT token is invalid or malformed (typ %r)." % header.get("typ")
        if alg not in ("RS256", "PS256"):
            return 401, "invalid_client", 700027, ("Client assertion failed signature validation: algorithm "
                                                   "%r is not supported (RS256, PS256)." % alg)
        app = self.emu.directory.app
        key = app.key_for(header)
        if key is None:
            return 401, "invalid_client", 700027, (
                "Client assertion failed signature validation. No certificate registered on the app matches "
                "the thumbprint in the header (x5t %r, x5t#S256 %r)." % (header.get("x5t"), header.get("x5t#S256")))
        if alg == "RS256":
            ok = crypto.verify_rs256(key, signing_input, sig)
        else:
            ok = crypto.verify_ps256(key, signing_input, sig, 32 if cfg.pss_salt == "digest" else None)
        if not ok:
            return 401, "invalid_client", 700027, "Client assertion failed signature validation (%s)." % alg
        # claims
        iss, sub = claims.get("iss"), claims.get("sub")
        if iss != client_id or sub != client_id:
            return 401, "invalid_client", 700021, (
                "Client assertion application identifier doesn't match 'client_id' parameter "
                "(iss %r, sub %r, client_id %r)." % (iss, sub, client_id))
        allowed = {"%s://%s%s" % (req.scheme, req.host, req.path)}
        if cfg.assertion_aud == "lenient":
            for h in LOGIN_GROUP:
                allowed.add("https://%s%s" % (h, req.path))
                allowed.add("https://%s/%s/v2.0" % (h, tenant_ref))
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(a in allowed for a in auds):
            return 400, "invalid_client", 50013, (
                "Assertion failed audience validation: aud %r, expected %s." % (aud, " or ".join(sorted(allowed))))
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            return 400, "invalid_client", 50013, "Assertion is missing the jti claim."
        now = time.time() if cfg.assertion_clock == "real" else self.emu.clock.now()
        skew = cfg.assertion_skew
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return 400, "invalid_client", 500133, "Assertion has no exp claim."
        if exp + skew <= now:
            return 400, "invalid_client", 500133, (
                "Assertion is not within its valid time range. Ensure that the access token is not expired "
                "before using it. Current time: %d, expiry time of assertion %d." % (now, exp))
        if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and nbf - skew > now:
            return 400, "invalid_client", 500133, (
                "Assertion is not within its valid time range: nbf %d is in the future (now %d)." % (nbf, now))
        with self.jti_lock:
            for k in [k for k, v in self.jti_seen.items() if v < now - skew]:
                del self.jti_seen[k]
            if jti in self.jti_seen:
                return 400, "invalid_client", 50013, "Assertion replay: the jti %r has been used before." % jti
            self.jti_seen[jti] = exp
        return alg

    # ---- issuing ----

    def _issue(self, req, tenant, resource, family, method, version, group):
        emu, cfg = self.emu, self.emu.cfg
        now = emu.clock.now()
        with self.jti_lock:
            self.counter += 1
            n = self.counter
        lifetime = cfg.token_lifetime
        if cfg.token_lifetime_jitter > 0:
            lifetime += emu.rng_int(0, cfg.token_lifetime_jitter)
        iat = int(now)
        roles = list(tenant.roles.get(family, []))
        sp = "sp-" + emu.directory.app.client_id
        claims = {
            "aud": resource, "iss": "https://sts.windows.net/%s/" % tenant.id,
            "iat": iat, "nbf": iat, "exp": iat + lifetime,
            "app_displayname": "annexa (emulated)", "appid": emu.directory.app.client_id,
            "appidacr": "2" if method.startswith("assertion") else "1",
            "idp": "https://sts.windows.net/%s/" % tenant.id, "idtyp": "app",
            "oid": sp, "sub": sp, "tid": tenant.id, "uti": "emu%08d" % n, "ver": "1.0",
            "emu_group": group, "emu_seq": n,
        }
        if roles:
            claims["roles"] = roles
        token = crypto.hs256_encode(claims, self.secret)
        emu.stats.token_issued(tenant.id, method, resource)
        if version == "v1":
            body = {"token_type": "Bearer", "expires_in": str(lifetime), "ext_expires_in": str(lifetime),
                    "expires_on": str(iat + lifetime), "not_before": str(iat), "resource": resource,
                    "access_token": token}
        else:
            as_string = cfg.expires_in == "string" or (cfg.expires_in == "mixed" and n % 2 == 0)
            body = {"token_type": "Bearer",
                    "expires_in": str(lifetime) if as_string else lifetime,
                    "ext_expires_in": str(lifetime) if as_string else lifetime,
                    "access_token": token}
        r = Resp.json(200, body)
        r.header("Cache-Control", "no-store, no-cache")
        r.header("Pragma", "no-cache")
        r.note = method
        return r

    # ---- checking bearer tokens on API calls ----

    def authenticate(self, req, family):
        """(claims, None) or (None, (reason, message)). reason: missing, malformed, expired,
        revoked, audience, cloud."""
        auth = req.headers.get("Authorization") or ""
        if not auth:
            return None, ("missing", "Access token is empty.")
        if auth[:7].lower() != "bearer ":
            return None, ("malformed", "The Authorization header is not a Bearer token.")
        claims = crypto.hs256_decode(auth[7:].strip(), self.secret)
        if claims is None:
            return None, ("malformed", "Invalid JWT token: not issued by this token service.")
        now = self.emu.clock.now()
        if now >= claims.get("exp", 0):
            return None, ("expired", "Lifetime validation failed, the token is expired.")
        tenant = self.emu.directory.by_guid(claims.get("tid", ""))
        if tenant is None:
            return None, ("malformed", "The token's tenant does not exist.")
        if claims.get("emu_seq", 0) <= tenant.revoked_seq:
            return None, ("revoked", "The access token has been revoked (continuous access evaluation).")
        aud_family = RESOURCES.get(claims.get("aud"), (None, None))
        if aud_family[0] != family:
            return None, ("audience", "Invalid audience: %s." % claims.get("aud"))
        hosts = MANAGE_HOSTS if family == "management" else GRAPH_HOSTS
        if req.hostname in hosts:
            group = RESOURCES["https://" + req.hostname][1]
            if claims.get("emu_group") not in (group, "local"):
                return None, ("cloud", "The token was issued by another cloud's identity platform.")
            wanted = {"https://" + req.hostname}
            if family == "graph" and group == "global":
                wanted.add("00000003-0000-0000-c000-000000000000")
            if claims.get("aud") not in wanted:
                return None, ("audience", "Invalid audience %s for %s." % (claims.get("aud"), req.hostname))
        return claims, None

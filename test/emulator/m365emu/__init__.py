"""m365emu: a local emulator of the Microsoft identity platform token service, the
Office 365 Management Activity API and Microsoft Graph (security alerts_v2, auditLogs),
written against shared/reference/m365-api.md. Python standard library only.

Modules, by concern:
  clock      the controllable clock every handler reads (section 5.33)
  crypto     base64url, a DER reader, RSA PKCS#1 v1.5 / PSS verification, HS256 tokens
  config     every knob: defaults, the command line, and which ones may change at run time
  tenants    tenants, the app registration, national-cloud host tables
  tokens     /{tenant}/oauth2/v2.0/token and /{tenant}/oauth2/token (section 5.1)
  templates  record shapes taken from the real corpus and the reference's examples
  datagen    lazy, deterministic content blobs per (tenant, content type, blob index)
  alerts     Graph alerts_v2, directoryAudits and signIns data, with updates over time
  management the Management Activity API handlers (section 5.2)
  graph      the Graph handlers and the small OData $filter evaluator (section 5.3)
  faults     scripted and random faults, and the throttling buckets
  stats      request log, counters, served blobs and record ids (section 5.34)
  server     HTTP plumbing, routing, the /_emulator control API
  harness    start/stop helpers for Python tests
"""

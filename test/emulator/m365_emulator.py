#!/usr/bin/env python3
"""Microsoft 365 emulator for annexa's tests and demo: the identity platform token service,
the Office 365 Management Activity API and Microsoft Graph (alerts_v2, auditLogs) in one
loopback HTTP server, as specified in shared/reference/m365-api.md section 5.

    python3 test/emulator/m365_emulator.py [--seed N] [--tenants N] [--days D] ...

When ready it prints one JSON line on stdout, e.g.
    {"url": "http://127.0.0.1:40123", "pid": 4242, "tenants": [...], "client_id": "...", ...}
and serves until SIGTERM/SIGINT, POST /_emulator/shutdown, or (with --stop-on-stdin-eof) the
end of stdin. Every knob: --help, or test/emulator/README.md.
"""
import json
import os
import signal
import sys
import threading

sys.dont_write_bytecode = True  # run from the source tree by meson: leave no __pycache__ there
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from m365emu.config import config_from_args  # noqa: E402
from m365emu.server import Emulator, start_servers  # noqa: E402


def main(argv=None):
    cfg = config_from_args(argv)
    emu = Emulator(cfg)
    servers = start_servers(emu)

    def stop(_sig=None, _frame=None):
        emu.stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if cfg.stop_on_stdin_eof:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop()
        threading.Thread(target=watch_stdin, daemon=True).start()

    ready = dict(emu.urls)
    ready["pid"] = os.getpid()
    ready["client_id"] = emu.directory.app.client_id
    ready["client_secret"] = cfg.client_secret
    ready["tenants"] = [{"id": t.id, "name": t.name} for t in emu.directory.tenants]
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()

    while not emu.stop_event.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

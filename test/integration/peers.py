"""The real receivers the end-to-end tests run annexa against, each started
here on 127.0.0.1 and able to stop and come back:

- Rsyslog (test/syslog/test_syslog.py's, Debian's rsyslogd), restartable on its port;
- MockCluster: the librdkafka mock cluster helper (test/kafka/mock_cluster.c),
  with its stdin commands (brokers down and up, injected errors);
- HecReceiver: test/hec/hec_receiver.py, restartable on its port, and busy
  (503) on demand;
- KafkaStream: a kcat consumer left running, writing what it reads to a file;
- SyslogSink: a syslog TCP receiver in this process that can stop reading.

And what reads them back: JsonlTail (a growing JSON-lines file, read as it
grows), record_id, and the Ids each receiver holds. Standard library only."""
import json
import os
import selectors
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "syslog"))
from axtest import stop_process, wait_for  # noqa: E402
from test_syslog import Rsyslog as _Rsyslog  # noqa: E402


def record_id(rec):
    """The event's Id; Graph records and older ones spell it in lower case."""
    if not isinstance(rec, dict):
        return None
    if "Id" in rec:
        return rec["Id"]
    return next((v for k, v in rec.items() if k.lower() == "id"), None)


def read_jsonl_ids(path):
    """The Id of every complete record of a JSON-lines file, in order ([] when there is none)."""
    return [record_id(r) for r in JsonlTail(path).new()]


def read_appended(path, offset):
    """What a growing file holds from offset on (b"" when there is no file yet)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""


class JsonlTail:
    """A JSON-lines file read as it grows: each call to new() parses the
    complete lines written since the last one. Lines that are not JSON are
    counted in .bad and skipped."""

    def __init__(self, path):
        self.path, self.offset, self.bad = path, 0, 0

    def new(self):
        data = read_appended(self.path, self.offset)
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next call
        self.offset += end
        out = []
        for line in data[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                self.bad += 1
        return out


class Rsyslog(_Rsyslog):
    """rsyslogd with an imtcp listener only (octet counting); restart()
    brings it back on the same port, appending to the same messages file."""

    def __init__(self, tmp, name="rsyslog"):
        super().__init__(tmp, name, udp=False, tls=False)

    def restart(self):
        self.stop()
        self.fixed_port = self.tcp_port  # the agent reconnects to where it was
        try:
            os.unlink(os.path.join(self.dir, "tcp.port"))
        except FileNotFoundError:
            pass
        self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class MockCluster:
    """The librdkafka mock cluster helper: started on construction (or as a
    context manager), stopped when its stdin closes."""

    def __init__(self, program, topics, brokers=1):
        self.proc = subprocess.Popen([program, "-b", str(brokers), *topics], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = self._line(20)
        if not line.startswith("bootstrap "):
            self.stop()
            raise RuntimeError("mock cluster did not start: %r" % line)
        self.bootstrap = line.split()[1]

    def _line(self, timeout):
        if not self.sel.select(timeout):
            return ""
        return self.proc.stdout.readline().strip()

    def command(self, cmd):
        """Runs a mock_cluster command (down 1, up 1, err PRODUCE 3 ...); returns what follows "ok"."""
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        answer = self._line(10)
        if answer.split(" ")[0] != "ok":
            raise RuntimeError("mock cluster: %s: %r" % (cmd, answer))
        return answer[2:].strip()

    def stop(self):
        if self.proc.stdin.closed:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sel.close()
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def outputs_config(syslog_port, bootstrap, topic, hec_port, token_file, kafka_extra=""):
    """The [output] sections of the three receivers: syslog over TCP to
    rsyslog, kafka to the mock cluster, splunk_hec to the HEC receiver."""
    return """[output "siem-syslog"]
type = syslog
address = tcp://127.0.0.1:{syslog}

[output "bus"]
type = kafka
brokers = {bootstrap}
topic = {topic}
{kafka_extra}
[output "splunk"]
type = splunk_hec
url = http://127.0.0.1:{hec}
token_file = {token_file}
""".format(syslog=syslog_port, bootstrap=bootstrap, topic=topic, kafka_extra=kafka_extra, hec=hec_port,
           token_file=token_file)


def kafka_messages(kcat, bootstrap, topic, timeout=60):
    """Every message of topic, read once from the beginning: kcat's JSON envelopes."""
    out = subprocess.run([kcat, "-C", "-q", "-J", "-e", "-o", "beginning", "-b", bootstrap, "-t", topic],
                         stdout=subprocess.PIPE, check=True, timeout=timeout).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def kafka_keys(kcat, bootstrap, topic, timeout=60):
    """The key of every message of topic (the event Id for annexa's), read
    once from the beginning: far cheaper than the messages themselves."""
    out = subprocess.run([kcat, "-C", "-q", "-e", "-o", "beginning", "-b", bootstrap, "-t", topic, "-f", "%k\n"],
                         stdout=subprocess.PIPE, check=True, timeout=timeout).stdout
    return out.decode("utf-8", "replace").split("\n")[:-1]


class KafkaStream:
    """kcat reading topic from the beginning and on, as long as it runs,
    one JSON envelope a line into a file: what the cluster holds, as it grows."""

    def __init__(self, kcat, bootstrap, topic, path):
        self.path = path
        self.out = open(path, "wb")
        self.err = open(path + ".stderr", "wb")
        self.proc = subprocess.Popen([kcat, "-C", "-q", "-J", "-u", "-o", "beginning", "-b", bootstrap, "-t", topic],
                                     stdout=self.out, stderr=self.err)
        self.tail = JsonlTail(path)

    def stop(self):
        stop_process(self.proc)
        self.out.close()
        self.err.close()


class HecReceiver:
    """test/hec/hec_receiver.py on 127.0.0.1. busy(True) makes it answer
    every event POST with 503 (Splunk's "Server is busy"); stop() and
    start() take it off the network and bring it back on the same port."""

    def __init__(self, script, tmp, token, name="hec", extra=()):
        self.script, self.token, self.extra = script, token, list(extra)
        self.out = os.path.join(tmp, name + "-events.jsonl")
        self.log = os.path.join(tmp, name + "-requests.jsonl")
        self.port_file = os.path.join(tmp, name + ".port")
        self.busy_file = os.path.join(tmp, name + ".busy")
        self.port, self.proc = 0, None
        self.start()

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.proc = subprocess.Popen([sys.executable, self.script, "--token", self.token, "--out", self.out,
                                      "--log", self.log, "--port", str(self.port), "--port-file", self.port_file,
                                      "--busy-file", self.busy_file, *self.extra])
        if not wait_for(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None, 20):
            self.stop()
            raise RuntimeError("the HEC receiver did not start")
        if self.proc.poll() is not None:
            raise RuntimeError("the HEC receiver exited with %d (port %d taken?)" % (self.proc.returncode, self.port))
        with open(self.port_file) as f:
            self.port = int(f.read())

    def busy(self, on):
        if on:
            open(self.busy_file, "w").close()
        elif os.path.exists(self.busy_file):
            os.unlink(self.busy_file)

    def stop(self):
        stop_process(self.proc)

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class SyslogSink:
    """A syslog receiver over TCP with octet counting (RFC 6587), in this
    process: it keeps the JSON payload of every whole message (a message cut
    by a closed connection is dropped, as a receiver must) and can stop
    reading, so that a sender's writes block once the socket buffers are
    full. pause_after(n) stops reading after the n-th message; resume()
    reads on. A small receive buffer keeps what sits in the kernel small."""

    def __init__(self, rcvbuf=65536):
        self.lock = threading.Lock()
        self.records, self.bad = [], 0
        self.reading = threading.Event()
        self.reading.set()
        self.pause_at = None
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # inherited by accepted sockets
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        with conn:
            while True:
                self.reading.wait()
                try:
                    data = conn.recv(16384)
                except OSError:
                    return
                if not data:
                    return  # what is left in buf is a cut message: dropped
                buf += data
                buf = self._frames(buf)

    def _frames(self, buf):
        while True:
            sp = buf.find(b" ")
            if sp < 0:
                return buf
            size = int(buf[:sp])
            if len(buf) < sp + 1 + size:
                return buf
            self._message(buf[sp + 1:sp + 1 + size])
            buf = buf[sp + 1 + size:]

    def _message(self, msg):
        brace = msg.find(b"{")  # RFC 5424 header and SD element hold no '{': the JSON payload starts here
        try:
            rec = json.loads(msg[brace:]) if brace >= 0 else None
        except ValueError:
            rec = None
        with self.lock:
            if rec is None:
                self.bad += 1
            else:
                self.records.append(rec)
            if self.pause_at is not None and len(self.records) >= self.pause_at:
                self.pause_at = None
                self.reading.clear()

    def pause_after(self, n):
        with self.lock:
            if len(self.records) >= n:
                self.reading.clear()
            else:
                self.pause_at = n

    def paused(self):
        return not self.reading.is_set()

    def resume(self):
        self.reading.set()

    def count(self):
        with self.lock:
            return len(self.records)

    def ids(self):
        with self.lock:
            return [record_id(r) for r in self.records]

    def close(self):
        self.closed = True
        self.reading.set()
        self.listener.close()

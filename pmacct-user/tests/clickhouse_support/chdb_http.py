"""A ClickHouse HTTP interface in front of chdb (ClickHouse 26.x in-process), for the tests of
the modern schema profile: chdb has no server of its own.

Serves what the sink and the tests use: `GET|POST /?query=SQL` with the statement in the URL
or, without one, in the body; an INSERT whose rows come in the body (`?query=INSERT ... FORMAT
RowBinary` plus data) is run with `FROM INFILE` on a temporary file; `GET /ping`. Errors are
HTTP 500 with ClickHouse's message, as the real server answers.

Usage: chdb_http.py PORT DATA_DIR   (prints "ready" on stdout once listening)
"""

import os
import re
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

from chdb import session

LOCK = threading.Lock()


def with_infile(query: str, path: str) -> str:
    """`INSERT INTO t (cols) FORMAT X` -> `INSERT INTO t (cols) FROM INFILE 'path' FORMAT X`."""
    m = re.search(r"\bFORMAT\s+\w+\s*$", query, re.IGNORECASE)
    if not m:
        raise ValueError("INSERT with a body needs a trailing FORMAT clause")
    return f"{query[:m.start()]} FROM INFILE '{path}' {query[m.start():]}"


class Handler(BaseHTTPRequestHandler):
    sess = None
    tmp = None

    def log_message(self, *args):  # quiet
        pass

    def answer(self, code: int, text: str):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_query(self, body: bytes):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/ping":
            return self.answer(200, "Ok.\n")
        params = urllib.parse.parse_qs(url.query)
        query = params.get("query", [None])[0]
        data_file = None
        try:
            if query is None:
                query = body.decode()
            elif body:
                fd, data_file = tempfile.mkstemp(dir=Handler.tmp, suffix=".bin")
                with os.fdopen(fd, "wb") as f:
                    f.write(body)
                query = with_infile(query.strip(), data_file)
            with LOCK:
                res = Handler.sess.query(query, "TabSeparated")
            self.answer(200, str(res) if res is not None else "")
        except Exception as e:  # chdb's errors carry ClickHouse's "Code: N. DB::Exception"
            self.answer(500, f"{e}\n")
        finally:
            if data_file:
                os.unlink(data_file)

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.handle_query(self.rfile.read(n) if n else b"")


def main():
    port, data = int(sys.argv[1]), sys.argv[2]
    os.makedirs(data, exist_ok=True)
    Handler.sess = session.Session(os.path.join(data, "db"))
    Handler.tmp = data
    server = HTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

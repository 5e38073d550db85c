"""An OTLP/HTTP trace receiver for the tests: every POST to /v1/traces is decoded with the official
opentelemetry-proto definitions (protobuf, or OTLP's JSON mapping through protobuf's json_format, as
the Collector does) and appended to a JSON-lines file as protobuf's own dict form. Usage:
otlp_receiver.py PORT_FILE OUT_FILE [STATUS,...]: writes the port it listens on to PORT_FILE; answers
the first request with the first STATUS, the next with the next, the last one to every request after
(default 200); a STATUS of 0 never answers."""
import http.server
import json
import itertools
import sys
import threading
import time

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

port_file, out_file = sys.argv[1], sys.argv[2]
statuses = [int(s) for s in (sys.argv[3] if len(sys.argv) > 3 else "200").split(",")]
answered = itertools.count()
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = self.headers.get("Content-Type", "")
        request = ExportTraceServiceRequest()
        if kind == "application/x-protobuf":
            request.ParseFromString(body)
        elif kind == "application/json":
            json_format.Parse(body, request)
        else:
            self.send_error(415)
            return
        with open(out_file, "a") as out:
            out.write(json.dumps({
                "path": self.path, "content_type": kind, "headers": dict(self.headers),
                "request": json_format.MessageToDict(request, preserving_proto_field_name=True),
            }) + "\n")
        with lock:
            status = statuses[min(next(answered), len(statuses) - 1)]
        if status == 0:
            time.sleep(3600)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()

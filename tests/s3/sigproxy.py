#!/usr/bin/python3
"""A signature-checking S3 proxy for Mox's S3 tests.

Every request is re-signed with botocore's SigV4 signer (an implementation Mox did not write)
from what arrived on the wire: the method, the raw path and query, the headers the request
says it signed, and the x-amz-date. Any difference, a body whose SHA-256 differs from
x-amz-content-sha256, or an unknown access key is answered 403 (SignatureDoesNotMatch,
InvalidAccessKeyId, XAmzContentSHA256Mismatch) without reaching the server; everything else
is forwarded to the upstream S3 server (s3rver) and its answer streamed back.

  sigproxy.py --upstream 127.0.0.1:4568 --port 0 --port-file FILE   run the proxy
  sigproxy.py --vectors tests/data/sigv4_vectors.json               check botocore's signer
                                                                     against the published vectors
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import re
import sys

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                     r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


def botocore_signature(method, host, raw_path, headers, amz_date, body, access_key, secret_key,
                       region, service, session_token=None):
    """Signs the request with botocore; returns (canonical_request, signature)."""
    creds = Credentials(access_key, secret_key, session_token)
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, region)
    request = AWSRequest(method=method, url="http://" + host + raw_path, data=body)
    for name, value in headers:
        request.headers[name] = value  # a repeated name is added again, not replaced
    request.context["timestamp"] = amz_date
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    return canonical, signer.signature(string_to_sign, request)


def check_vectors(path):
    data = json.load(open(path))
    failures = 0
    for v in data["vectors"]:
        keys = data[v["keys"]]
        host = next(value for name, value in v["headers"] if name.lower() == "host")
        raw = v["path"] + ("?" + v["query"] if v["query"] else "")
        canonical, sig = botocore_signature(v["method"], host, raw, v["headers"], keys["amz_date"],
                                            v["body"].encode(), keys["access_key"], keys["secret_key"],
                                            keys["region"], keys["service"])
        ok = sig == v["signature"] and ("canonical_request" not in v or canonical == v["canonical_request"])
        print(("ok   " if ok else "FAIL ") + v["name"] + ("" if ok else ": botocore signs " + sig))
        failures += not ok
    print(f"{len(data['vectors']) - failures} of {len(data['vectors'])} vectors match botocore's signer")
    return failures == 0


def error_xml(code, message):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()


def forward(handler, upstream, body, cut_after=None):
    """Sends handler's request (with body) to upstream and relays the answer; returns the number
    of body bytes relayed. With cut_after, relays at most that many body bytes and returns None
    when the body was longer (the caller then drops the connection)."""
    conn = http.client.HTTPConnection(*upstream, timeout=60)
    headers = {n: v for n, v in handler.headers.items() if n.lower() not in HOP_BY_HOP}
    conn.request(handler.command, handler.path, body=body if body else None, headers=headers)
    resp = conn.getresponse()
    handler.send_response(resp.status, resp.reason)
    has_body = handler.command != "HEAD" and resp.status not in (204, 304)
    for n, v in resp.getheaders():
        if n.lower() not in HOP_BY_HOP:
            handler.send_header(n, v)
    if has_body and resp.getheader("Content-Length") is None:
        handler.send_header("Connection", "close")  # the end of the body is the end of the connection
        handler.close_connection = True
    handler.end_headers()
    sent = 0
    while has_body:
        chunk = resp.read(1 << 16)
        if not chunk:
            break
        if cut_after is not None and sent + len(chunk) >= cut_after:
            handler.wfile.write(chunk[:cut_after - sent])
            handler.wfile.flush()
            conn.close()
            return None
        handler.wfile.write(chunk)
        sent += len(chunk)
    conn.close()
    return sent


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None
    access_key = secret_key = region = None

    def log_message(self, fmt, *args):  # quiet: failures are logged by verify()
        pass

    def verify(self, body):
        """None when the request is signed right, else (code, message)."""
        m = AUTH_RE.match(self.headers.get("Authorization", ""))
        if not m:
            return "AccessDenied", "missing or malformed SigV4 Authorization header"
        key, date, region, service, signed, signature = m.groups()
        if key != self.access_key:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        signed_names = signed.split(";")
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            if required not in signed_names:
                return "AccessDenied", f"{required} is not among the signed headers"
        amz_date = self.headers.get("x-amz-date", "")
        if not amz_date.startswith(date) or region != self.region or service != "s3":
            return "SignatureDoesNotMatch", "the credential scope does not match the request"
        payload = self.headers.get("x-amz-content-sha256")
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch", "x-amz-content-sha256 differs from the body's SHA-256"
        headers = [(n, v) for n, v in self.headers.items() if n.lower() in signed_names]
        canonical, expected = botocore_signature(self.command, self.headers["host"], self.path, headers,
                                                 amz_date, body, self.access_key, self.secret_key,
                                                 self.region, "s3")
        if expected != signature:
            sys.stderr.write(f"sigproxy: signature mismatch on {self.command} {self.path}; botocore's "
                             f"canonical request:\n{canonical}\n")
            return "SignatureDoesNotMatch", ("The request signature we calculated does not match the "
                                             "signature you provided.")
        return None

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        problem = self.verify(body)
        if problem:
            payload = error_xml(*problem)
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        forward(self, self.upstream, body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def serve(handler, port, port_file):
    """Serves handler on 127.0.0.1:port, writing the port taken to port_file (atomically) if given."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", help="check botocore's signer against this vector file and exit")
    ap.add_argument("--upstream", help="host:port of the S3 server")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    ap.add_argument("--port-file", help="write the port listened on to this file")
    ap.add_argument("--access-key", default="S3RVER")
    ap.add_argument("--secret-key", default="S3RVER")
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()
    if args.vectors:
        sys.exit(0 if check_vectors(args.vectors) else 1)
    host, port = args.upstream.rsplit(":", 1)
    Handler.upstream = (host, int(port))
    Handler.access_key, Handler.secret_key, Handler.region = args.access_key, args.secret_key, args.region
    serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference SigV4 values from botocore, the independent oracle for mediad's signer.

Reads {"cases": [...]} as JSON on stdin and writes {"results": {id: {...}}} to stdout.
Time is frozen at each case's "timestamp" (YYYYMMDDTHHMMSSZ). Case kinds:

  raw      botocore's S3SigV4Auth over a hand-made request: "method", "url" (path
           already encoded, no query), "query" [[name, value]] (not encoded: botocore
           encodes them), "headers" [[name, value]], "body" (text), "unsignedPayload".
           Returns authorization, canonicalRequest, stringToSign.
  client   a real boto3 S3 client call ("operation", "params", "endpoint",
           "addressingStyle"), captured just before sending. Returns method, url,
           headers (the request as botocore would send it).
  presign  boto3's generate_presigned_url ("operation", "params", "expires").

Every case carries "accessKey", "secretKey", optional "token", and "region".
Needs: python3 with botocore and boto3 (both come with `moto[server]`).
"""
import datetime
import json
import sys
from unittest import mock

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials


def frozen(timestamp):
    moment = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
    return mock.patch.multiple(
        "botocore.auth", get_current_datetime=lambda *a, **k: moment)


def credentials(case):
    return botocore.credentials.Credentials(case["accessKey"], case["secretKey"], case.get("token"))


def raw(case):
    body = case.get("body", "").encode("utf-8")
    request = botocore.awsrequest.AWSRequest(
        method=case["method"], url=case["url"], data=body,
        params=[tuple(item) for item in case.get("query", [])])
    for name, value in case.get("headers", []):
        request.headers[name] = value
    if case.get("unsignedPayload"):
        request.context["client_config"] = botocore.config.Config(s3={"payload_signing_enabled": False})
    signer = RecordingSigner(credentials(case), "s3", case["region"])
    with frozen(case["timestamp"]):
        signer.add_auth(request)
    return {"authorization": request.headers["Authorization"], "canonicalRequest": signer.canonical,
            "stringToSign": signer.sts,
            "headers": [[k, v] for k, v in request.headers.items()]}


class RecordingSigner(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer, keeping the intermediate strings it signed."""

    def canonical_request(self, request):
        self.canonical = super().canonical_request(request)
        return self.canonical

    def string_to_sign(self, request, canonical_request):
        self.sts = super().string_to_sign(request, canonical_request)
        return self.sts


def client(case, presign=False):
    config = botocore.config.Config(
        signature_version="s3v4",
        s3={"addressing_style": case.get("addressingStyle", "auto")},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 1, "mode": "standard"})
    s3 = boto3.session.Session().client(
        "s3", region_name=case["region"], endpoint_url=case.get("endpoint"), config=config,
        aws_access_key_id=case["accessKey"], aws_secret_access_key=case["secretKey"],
        aws_session_token=case.get("token"))
    params = dict(case.get("params", {}))
    if "Body" in params:
        params["Body"] = params["Body"].encode("utf-8")
    with frozen(case["timestamp"]):
        if presign:
            url = s3.generate_presigned_url(case["operation"], Params=params, ExpiresIn=case["expires"])
            return {"url": url}
        captured = {}

        def capture(request, **_):
            captured["method"] = request.method
            captured["url"] = request.url
            captured["headers"] = [[k, v.decode() if isinstance(v, bytes) else v]
                                   for k, v in request.headers.items()]
            raise StopSending()

        s3.meta.events.register("before-send.s3", capture)
        try:
            getattr(s3, case["operation"])(**params)
        except StopSending:
            pass
        return captured


class StopSending(Exception):
    pass


def main():
    cases = json.load(sys.stdin)["cases"]
    results = {}
    for case in cases:
        kind = case["kind"]
        if kind == "raw":
            results[case["id"]] = raw(case)
        elif kind == "client":
            results[case["id"]] = client(case)
        elif kind == "presign":
            results[case["id"]] = client(case, presign=True)
        else:
            raise SystemExit(f"unknown case kind {kind!r}")
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()

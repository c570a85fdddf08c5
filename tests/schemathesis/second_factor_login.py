"""The second step of a login for .ci/schemathesis: an administrator's first login answers 202
with the key of an authenticator to set up; this computes the code that key shows now
(RFC 6238: HMAC-SHA1, 30-second steps, six digits; standard library only), sends it, and prints
the access token. Usage: second_factor_login.py URL FIRST_ANSWER_JSON"""

import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.request


def totp(secret_b32: str, at: float) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def main() -> None:
    url, first = sys.argv[1], json.loads(sys.argv[2])
    body = json.dumps(
        {
            "challenge_token": first["challenge_token"],
            "code": totp(first["totp_setup"]["secret"], time.time()),
        }
    ).encode()
    req = urllib.request.Request(
        url + "/api/v1/auth/login/second-factor",
        data=body,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as res:
        print(json.load(res)["access_token"])


if __name__ == "__main__":
    main()

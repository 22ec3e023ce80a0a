"""moto's server, answering a browser's presigned POST as S3 does: `python -m local.moto_s3 -H
HOST -p PORT` (moto.server's options).

moto 5.2 answers a successful POST object upload (a form posted to the bucket's URL) with the
status alone: no `ETag`, no `Location`, and none of the bucket's CORS headers, which it does send
with its answers to PUT, GET and HEAD. A browser then hides the answer from the page, and Uppy,
which waits for the ETag, never finishes the file. Here moto's own handler of that POST runs
unchanged, and its success gets what S3 adds: the stored object's ETag (read from moto's
backend, in this process), its `Location`, and the CORS headers moto's own code gives that
origin on a PUT. Every other request, refusals and DeleteObjects (the same route) included, is
moto's, untouched. A WSGI middleware could not do it as simply: the key is in the form's body,
and the CORS matching lives in moto's S3Response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from moto import server
from moto.core.common_types import TYPE_RESPONSE
from moto.s3.responses import S3Response

BucketPost = Callable[[S3Response, Any, str], TYPE_RESPONSE]


def answer_as_s3(moto_post: BucketPost) -> BucketPost:
    @wraps(moto_post)
    def post(self: S3Response, request: Any, bucket_name: str) -> TYPE_RESPONSE:
        status, headers, body = moto_post(self, request, bucket_name)
        if self.data.get("Action") != "PutObject" or int(status) >= 300:
            return status, headers, body
        key = self.querystring["key"][0]
        stored = self.backend.get_object(bucket_name, key)
        if stored is None:  # deleted in between: nothing to describe
            return status, headers, body
        # The URL the form went to is the bucket's (path-style or virtual-hosted).
        location = f"{request.base_url.rstrip('/')}/{quote(key)}"
        added = {"ETag": stored.etag, "Location": location, **self._get_cors_headers_other()}
        # A success_action_redirect's Location is moto's (the redirect), as on S3.
        return status, added | headers, body

    return post


def main() -> None:
    S3Response._bucket_response_post = answer_as_s3(  # type: ignore[method-assign,assignment]
        S3Response._bucket_response_post
    )
    server.main()


if __name__ == "__main__":
    main()

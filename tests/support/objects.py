"""Large objects made on the S3 server, so that neither a test nor a benchmark holds them."""

from __future__ import annotations

import hashlib
import uuid

from chalicelib.storage import Storage


def upload_repeated(storage: Storage, size: int, chunk: bytes) -> tuple[str, str, str]:
    """A `size`-byte object made of `chunk` repeated: one chunk is uploaded, the server copies it
    into every part (UploadPartCopy). Its key, ETag and expected sha256."""
    key, source, expected = f"big/{uuid.uuid4()}", f"big/{uuid.uuid4()}", hashlib.sha256()
    storage.client.put_object(Bucket=storage.bucket, Key=source, Body=chunk)
    upload_id = storage.create_multipart(key, "application/octet-stream")
    parts = []
    for number in range(1, size // len(chunk) + 1):
        etag = storage.client.upload_part_copy(
            Bucket=storage.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": storage.bucket, "Key": source},
        )["CopyPartResult"]["ETag"]
        parts.append((number, etag))
        expected.update(chunk)
    return key, storage.complete_multipart(key, upload_id, parts), expected.hexdigest()

"""Where registry content lives in the byte store.

    <storage root>/
    ├── blobs/
    │   └── <algorithm>/<first two hex chars>/<encoded>   content, one copy per digest, shared
    │                                                     by every repository of every account
    └── uploads/
        └── <upload id>/data                              bytes of an upload in progress

Which repository may see which blob is metadata (`repository_blobs`), not storage layout:
the store is content-addressed and immutable once a blob is committed. Manifests are kept as exact
bytes in the metadata database (they are small, and the pull hot path reads them in one query).
"""

from __future__ import annotations

from stiva.oci.digest import Digest


def blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.encoded[:2]}/{digest.encoded}"


def upload_path(upload_id: str) -> str:
    return f"uploads/{upload_id}/data"


def upload_dir(upload_id: str) -> str:
    return f"uploads/{upload_id}"

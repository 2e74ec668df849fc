"""Download one media file safely: streamed, checked, then moved into place without overwriting.

Checks, in order: HTTP status (mapped to `errors.*`), `Content-Type` (video/mp4 for a video, an image
type for a thumbnail or spritesheet; a JSON body is an error, never a file), the first bytes (the MP4
`ftyp` box at bytes 4–8; JPEG/PNG/WebP signatures), and `Content-Length` against the bytes received.
The bytes go to a hidden temporary file in the target directory, fsynced, and are then linked into
place under a name that does not exist yet: a paid video is never overwritten. If the target already
holds the same bytes it is reused; if it holds different bytes the new file gets a `-1`, `-2`… name.
A failed or truncated download leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import anyio.to_thread
import httpx

from sorastudio.errors import ContentError
from sorastudio.providers.base import Asset, AssetKind, sniff_image
from sorastudio.providers.http import ERROR_BODY_LIMIT, ApiClient, service_message, transport_error
from sorastudio.providers.retry import TruncatedContent, retrying

_VIDEO_TYPES = ("video/mp4", "application/octet-stream")  # octet-stream still has to pass the ftyp check
_MAX_NAME_TRIES = 1000


async def download_file(
    api: ApiClient,
    path: str,
    query: dict[str, str | int | None],
    *,
    directory: Path,
    stem: str,
    kind: AssetKind,
    variant: int,
    source_id: str,
) -> Asset:
    """GET `path` into `directory/<stem>.<ext>` (ext from the content), retrying transient failures."""
    await anyio.to_thread.run_sync(lambda: directory.mkdir(parents=True, exist_ok=True))
    what = f"download {kind} of {source_id}"
    return await retrying(
        lambda: _download_once(api, path, query, directory, stem, kind, variant, source_id, what),
        policy=api.retry,
        sleep=api.sleep,
        rng=api.rng,
        what=what,
    )


async def _download_once(
    api: ApiClient,
    path: str,
    query: dict[str, str | int | None],
    directory: Path,
    stem: str,
    kind: AssetKind,
    variant: int,
    source_id: str,
    what: str,
) -> Asset:
    url = api.url(path, **query)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    received = 0
    started = False
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                async with api.client.stream("GET", url, **api.request_options) as response:
                    started = True
                    if response.is_error:
                        raise api.status_error(await _capped(response))
                    content_type = _mime(response)
                    if content_type == "application/json" or content_type.endswith("+json"):
                        message, _ = service_message((await _capped(response)).content)
                        raise ContentError(
                            f"{what}: the server sent a JSON body instead of the file"
                            + (f" ({message})" if message else "")
                        )
                    _check_type(response, content_type, kind, what)
                    expected = _content_length(response)
                    digest = hashlib.sha256()
                    head = b""
                    ext: str | None = None
                    async for chunk in response.aiter_bytes():
                        if ext is None:  # hold the first bytes back until they prove the format
                            head += chunk
                            if len(head) < 12:
                                continue
                            ext = _check_magic(head, kind, what)
                            chunk, head = head, b""
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
            except httpx.HTTPError as exc:
                if started:
                    raise TruncatedContent(
                        f"{what}: the connection broke after {received + len(head)} bytes "
                        f"({type(exc).__name__})"
                    ) from exc
                raise transport_error(exc, what) from exc
            if ext is None:  # fewer than 12 bytes in all
                if not head:
                    raise ContentError(f"{what}: the body is empty")
                ext = _check_magic(head, kind, what)
                out.write(head)
                digest.update(head)
                received += len(head)
            if expected is not None and received != expected:
                raise TruncatedContent(f"{what}: received {received} of the {expected} bytes announced")
            out.flush()
            await anyio.to_thread.run_sync(os.fsync, out.fileno())
        name, sha256 = f"{stem}.{ext}", digest.hexdigest()
        final = await anyio.to_thread.run_sync(lambda: _place(tmp, directory, name, sha256, received))
    except BaseException:
        _discard(tmp)
        raise
    return Asset(
        kind=kind,
        variant=variant,
        path=final,
        size_bytes=received,
        content_type=content_type,
        sha256=digest.hexdigest(),
        source_id=source_id,
    )


async def _capped(response: httpx.Response) -> httpx.Response:
    """The response with at most ERROR_BODY_LIMIT bytes of its body read (for error mapping)."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_LIMIT:
            break
    return httpx.Response(
        response.status_code, headers=response.headers, content=body, request=response.request
    )


def _mime(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _check_type(response: httpx.Response, mime: str, kind: AssetKind, what: str) -> None:
    ok = mime in _VIDEO_TYPES if kind == "video" else mime.startswith("image/")
    if not ok:
        wanted = "video/mp4" if kind == "video" else "an image type"
        raw = response.headers.get("content-type") or "missing"
        raise ContentError(f"{what}: Content-Type is {raw}, expected {wanted}")


def _check_magic(head: bytes, kind: AssetKind, what: str) -> str:
    """The file extension the first bytes prove, or ContentError."""
    if head.lstrip()[:1] in (b"{", b"["):
        message, _ = service_message(head)
        raise ContentError(f"{what}: the body is JSON, not media{f' ({message})' if message else ''}")
    if kind == "video":
        if head[4:8] != b"ftyp":
            raise ContentError(f"{what}: the body is not an MP4 file (no 'ftyp' box at bytes 4–8)")
        return "mp4"
    sniffed = sniff_image(head)
    if sniffed is None:
        raise ContentError(f"{what}: the body is not a JPEG, PNG or WebP image")
    return sniffed[1]


def _content_length(response: httpx.Response) -> int | None:
    # With a content encoding the header counts encoded bytes, not the decoded ones we count.
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return None
    raw = response.headers.get("content-length")
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def _discard(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)


def _same_file(path: Path, sha256: str, size: int) -> bool:
    try:
        if path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256
    except OSError:
        return False


def _place(tmp: Path, directory: Path, name: str, sha256: str, size: int) -> Path:
    """Move `tmp` to `directory/name` (or `name-1`, …) without ever replacing an existing file."""
    stem, dot, ext = name.rpartition(".")
    for attempt in range(_MAX_NAME_TRIES):
        candidate = directory / (name if attempt == 0 else f"{stem}-{attempt}{dot}{ext}")
        try:
            # link() fails if the name exists, so a file appearing meanwhile is never clobbered.
            os.link(tmp, candidate)
        except FileExistsError:
            if _same_file(candidate, sha256, size):
                tmp.unlink()
                return candidate
            continue
        except OSError:
            # A filesystem without hard links: check, then rename (a small race we accept there).
            if candidate.exists():
                if _same_file(candidate, sha256, size):
                    tmp.unlink()
                    return candidate
                continue
            os.replace(tmp, candidate)
            _fsync_dir(directory)
            return candidate
        tmp.unlink()
        _fsync_dir(directory)
        return candidate
    raise ContentError(f"no free file name for {name} in {directory} after {_MAX_NAME_TRIES} tries")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = ["download_file"]

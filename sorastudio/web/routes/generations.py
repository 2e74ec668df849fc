"""`/api/generations`: create (multipart, optional image), list (filters, search, keyset pages), one,
events, lineage, cancel, retry, remix, delete."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from sorastudio.errors import ValidationError
from sorastudio.web import reads
from sorastudio.web.deps import StudioDep
from sorastudio.web.schemas import GenerationOut, GenerationPage, LineageOut, RemixIn
from sorastudio.web.security import require_csrf
from sorastudio.web.services import read

router = APIRouter(prefix="/api/generations", tags=["generations"], dependencies=[Depends(require_csrf)])
Mode = Literal["text", "image", "remix"]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    studio: StudioDep,
    prompt: Annotated[str, Form()],
    mode: Annotated[Mode, Form()] = "text",
    profile: Annotated[str | None, Form()] = None,
    model: Annotated[str | None, Form()] = None,
    size: Annotated[str | None, Form()] = None,
    seconds: Annotated[int | None, Form()] = None,
    variants: Annotated[int, Form()] = 1,
    fit: Annotated[Literal["cover", "contain", "stretch"], Form()] = "cover",
    priority: Annotated[int, Form()] = 0,
    remix_of: Annotated[str | None, Form()] = None,
    image: Annotated[UploadFile | None, File()] = None,
) -> GenerationOut:
    """Queue a generation: validated, priced and reserved before anything is sent (201 + the row)."""
    profile = profile or None  # an empty <select> sends ""
    data = await image.read() if image is not None else b""  # a browser sends an empty part for no file
    _check_inputs(mode, data, remix_of)
    if mode == "remix":
        handle = await studio.remix(remix_of or "", prompt, profile=profile)
    else:
        handle = await studio.generate(
            prompt,
            model=model or None,
            size=size or None,
            seconds=seconds,
            variants=variants,
            image=data or None,
            fit=fit,
            profile=profile,
            priority=priority,
        )
    return GenerationOut.of(await studio.get(handle.id))


def _check_inputs(mode: str, image: bytes, remix_of: str | None) -> None:
    """The mode decides which inputs belong (the library infers the mode from the inputs instead)."""
    if mode == "image" and not image:
        raise ValidationError(
            "image is missing: mode=image needs a reference image (JPEG, PNG or WebP)", field="image"
        )
    if mode != "image" and image:
        raise ValidationError(f"image is only used in image mode (mode={mode}): drop it", field="image")
    if mode == "remix" and not remix_of:
        raise ValidationError(
            "remix_of is missing: mode=remix needs the id of the video to remix", field="remix_of"
        )
    if mode != "remix" and remix_of:
        raise ValidationError(f"remix_of is only used in remix mode (mode={mode})", field="remix_of")


@router.get("")
async def list_generations(
    studio: StudioDep,
    q: Annotated[str | None, Query(description="words of the prompt (prefix match, all must occur)")] = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    model: str | None = None,
    mode: str | None = None,
    since: Annotated[date | None, Query(description="created on or after this UTC day")] = None,
    until: Annotated[date | None, Query(description="created on or before this UTC day")] = None,
    limit: Annotated[int, Query(ge=1, le=reads.MAX_PAGE)] = 24,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> GenerationPage:
    """Newest first; keyset pages (`cursor`) stay fast however deep you go."""
    flt = reads.GalleryFilter(
        status=status_ or None, model=model or None, mode=mode or None, since=since, until=until, query=q
    )
    page = await read(studio, reads.gallery_page, flt, limit=limit, cursor=cursor or None)
    return GenerationPage.of(page)


@router.get("/active")
async def active(studio: StudioDep) -> list[dict[str, object]]:
    """Unfinished generations in engine order, with their place in our queue while not yet submitted."""
    rows = await read(studio, reads.active)
    return [{"generation": GenerationOut.of(g), "queue_position": place} for g, place in rows]


@router.get("/{generation_id}")
async def get_one(studio: StudioDep, generation_id: str) -> GenerationOut:
    return GenerationOut.of(await studio.get(generation_id))


@router.get("/{generation_id}/events")
async def events(studio: StudioDep, generation_id: str, after: int = 0) -> list[dict[str, object]]:
    await studio.get(generation_id)  # 404 for an unknown id rather than an empty list
    return [e.model_dump(mode="json") for e in await studio.events(generation_id, after)]


@router.get("/{generation_id}/lineage")
async def lineage(studio: StudioDep, generation_id: str) -> LineageOut:
    """The remix tree this generation belongs to, from the root source down."""
    return LineageOut.of(await read(studio, reads.lineage, generation_id))


@router.post("/{generation_id}/cancel")
async def cancel(studio: StudioDep, generation_id: str) -> GenerationOut:
    return GenerationOut.of(await studio.cancel(generation_id))


@router.post("/{generation_id}/retry", status_code=status.HTTP_202_ACCEPTED)
async def retry(studio: StudioDep, generation_id: str) -> GenerationOut:
    """Failed/cancelled: queued again (same id). Expired: a new generation like it (new id)."""
    handle = await studio.retry(generation_id)
    return GenerationOut.of(await studio.get(handle.id))


@router.post("/{generation_id}/remix", status_code=status.HTTP_201_CREATED)
async def remix(studio: StudioDep, generation_id: str, body: RemixIn) -> GenerationOut:
    handle = await studio.remix(generation_id, body.prompt, profile=body.profile or None)
    return GenerationOut.of(await studio.get(handle.id))


@router.delete("/{generation_id}")
async def delete(
    studio: StudioDep,
    generation_id: str,
    remote: Annotated[bool, Query(description="also delete the provider's copy")] = False,
) -> GenerationOut:
    """Delete the local files and row (the ledger keeps what was spent); `remote=true` also the provider's."""
    return GenerationOut.of(await studio.delete(generation_id, remote=remote))

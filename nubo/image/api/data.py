"""Image data: ``PUT``/``GET /v2/images/{id}/file``, ``PUT .../stage`` and
``POST .../import``. Bodies are streamed, never read whole: the upload iterates
the raw request stream (so the JSON body-size limit does not apply) and the
download is a streaming response with Range support."""

from __future__ import annotations

import re

from starlette.responses import Response, StreamingResponse

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import BadRequest, NuboError, UnsupportedMediaType
from nubo.image.service import data

router = Router()
IMAGE = "service/image/image"
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(NuboError):
    status = 416
    title = "Requested Range Not Satisfiable"


def _octet_stream(req: ApiRequest) -> None:
    ctype = req.headers.get("content-type")
    if ctype and ctype.split(";")[0].strip().lower() != "application/octet-stream":
        raise UnsupportedMediaType(f"Content-Type must be application/octet-stream, not "
                                   f"{ctype!r}.")


def _declared_size(req: ApiRequest) -> int | None:
    declared = req.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


@router.put("/v2/images/{image_id}/file", status=204, target=IMAGE)
async def upload_image(req: ApiRequest) -> Reply:
    _octet_stream(req)
    await data.upload_image(req.rt, req.ctx, req.params["image_id"], req.raw.stream(),
                            size=_declared_size(req))
    return None


@router.put("/v2/images/{image_id}/stage", status=204, target=IMAGE)
async def stage_image(req: ApiRequest) -> Reply:
    _octet_stream(req)
    await data.stage_image(req.rt, req.ctx, req.params["image_id"], req.raw.stream(),
                           size=_declared_size(req))
    return None


@router.post("/v2/images/{image_id}/import", status=202, target=IMAGE)
async def import_image(req: ApiRequest) -> Reply:
    body = await req.json()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    await data.import_image(req.rt, req.ctx, req.params["image_id"], body, req.request_id)
    return Response(status_code=202)


def _range(header: str, size: int) -> tuple[int, int]:
    found = RANGE.match(header.strip())
    if not found or found.groups() == ("", ""):
        raise RangeNotSatisfiable(f"Invalid Range header: {header}")
    first, last = found.groups()
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(f"Requested range {header} not satisfiable for an image "
                                  f"of {size} bytes.")
    return start, end


@router.get("/v2/images/{image_id}/file")
async def download_image(req: ApiRequest) -> Reply:
    image_id = req.params["image_id"]
    image = await data.downloadable(req.rt, req.ctx, image_id)
    size = image["size"]
    if size is None:
        return Response(status_code=204)
    headers = {"Content-Type": "application/octet-stream"}
    if image.get("checksum"):
        headers["Content-MD5"] = image["checksum"]
    wanted = req.headers.get("range")
    if not wanted:
        headers["Content-Length"] = str(size)
        return StreamingResponse(data.read_data(req.rt, image_id), headers=headers)
    start, end = _range(wanted, size)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(data.read_data(req.rt, image_id, start, end), status_code=206,
                             headers=headers)

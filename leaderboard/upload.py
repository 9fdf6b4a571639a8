"""Reading a submission's request body, the upload cap enforced while it streams in.

A submission is ``application/json`` (one object: the metadata fields and ``results``, the
results file's content) or ``multipart/form-data`` (the results file as the file part
``results``, the metadata as form fields). Either way no more than the cap is ever read:
a declared ``Content-Length`` above it is refused before reading anything, and a body
that passes it while streaming is refused at that moment.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from leaderboard.errors import BadRequestError, UnsupportedMediaTypeError, UploadTooLargeError
from leaderboard.submission import parse_results

MEDIA_TYPES = ("application/json", "multipart/form-data")
# Form fields of a multipart submission: the metadata's few, each short.
MAX_FORM_FIELDS = 20
MAX_FIELD_BYTES = 64 * 2**10
# The optional file part of a policy upload: the submitter's results on public seeds.
PUBLIC_RESULTS = "public_results"


def _too_large(cap: int, read: str) -> UploadTooLargeError:
    """Return the refusal of a body larger than ``cap`` bytes, saying how much was read."""
    return UploadTooLargeError(
        f"the upload is larger than the cap of {cap} bytes ({cap / 2**20:g} MiB, "
        f"max_upload_bytes); {read}. A results file of that size is too large for this server"
    )


async def capped_body(request: Request, cap: int) -> AsyncIterator[bytes]:
    """Yield the request body's chunks, refusing it once more than ``cap`` bytes arrive.

    Raises:
        UploadTooLargeError: Before reading anything if ``Content-Length`` exceeds
            ``cap``, else as soon as the bytes received do.
        BadRequestError: If the client went away before the body ended.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(cap, f"its Content-Length is {int(declared)}, so none of it was read")
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > cap:
                raise _too_large(cap, f"reading stopped after {received} bytes")
            yield chunk
    except ClientDisconnect:
        raise BadRequestError("the upload was cut off before its end") from None


async def read_submission(request: Request, cap: int) -> tuple[dict[str, Any], Any]:
    """Read a submission's body: its metadata fields and its results file's content.

    Args:
        request: The ``POST`` of the submission.
        cap: The most bytes the body may have.

    Returns:
        ``(fields, results)``: the metadata fields as sent, and the results file's parsed
        JSON content.

    Raises:
        UploadTooLargeError: If the body is larger than ``cap``.
        UnsupportedMediaTypeError: If it is neither JSON nor multipart.
        BadRequestError: If it cannot be read as its media type says, or lacks the results.
        RefusedEntryError: If the results file of a multipart body is not JSON.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        return await _read_json(request, cap)
    if media_type == "multipart/form-data":
        return await _read_multipart(request, cap)
    raise UnsupportedMediaTypeError(
        f"a submission's Content-Type is {' or '.join(MEDIA_TYPES)}; got {media_type or 'none'!r}"
    )


async def _read_json(request: Request, cap: int) -> tuple[dict[str, Any], Any]:
    """Read a JSON submission: an object of the metadata fields and ``results``."""
    body = b"".join([chunk async for chunk in capped_body(request, cap)])
    try:
        fields = json.loads(body)
    except (ValueError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else error
        raise BadRequestError(f"the request body is not valid JSON: {reason}") from None
    if not isinstance(fields, dict) or "results" not in fields:
        raise BadRequestError(
            "a JSON submission is an object holding the metadata fields (method, ...) and "
            "results, the content of results.json"
        )
    results = fields.pop("results")
    return fields, results


async def _read_multipart(request: Request, cap: int) -> tuple[dict[str, Any], Any]:
    """Read a multipart submission: the file part ``results`` and the metadata fields."""
    fields, files = await _read_form(
        request,
        cap,
        "results",
        "a multipart submission holds the results file as the file part 'results' "
        "(curl -F results=@results.json)",
    )
    return fields, parse_results(files["results"])


async def read_policy_upload(request: Request, cap: int) -> tuple[dict[str, str], PolicyUpload]:
    """Read a policy upload: the file parts ``policy`` and ``public_results`` (optional).

    Returns:
        ``(fields, upload)``: the form fields as sent (``suite`` and the metadata) and the
        files.

    Raises:
        UploadTooLargeError: If the body is larger than ``cap``.
        UnsupportedMediaTypeError: If it is not multipart.
        BadRequestError: If it cannot be read, or lacks the file part ``policy``.
        RefusedEntryError: If ``public_results`` is not JSON.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            f"a policy upload's Content-Type is multipart/form-data; got {media_type or 'none'!r}"
        )
    fields, files = await _read_form(
        request,
        cap,
        "policy",
        "a policy upload holds the ONNX file as the file part 'policy' "
        "(curl -F policy=@policy.onnx -F suite=smoke-v0 -F method=NAME)",
        optional=(PUBLIC_RESULTS,),
    )
    public = files.get(PUBLIC_RESULTS)
    return fields, PolicyUpload(files["policy"], None if public is None else parse_results(public))


@dataclass(frozen=True)
class PolicyUpload:
    """The files of a policy upload.

    Attributes:
        policy: The ONNX file's bytes.
        public_results: The submitter's own results of it on public seeds, parsed JSON,
            or None if not sent.
    """

    policy: bytes
    public_results: Any | None


async def _read_form(
    request: Request, cap: int, part: str, missing: str, optional: tuple[str, ...] = ()
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Read a multipart body of at most ``cap`` bytes: its file parts and its text fields.

    Args:
        request: The request.
        cap: The body's size cap, bytes.
        part: The name of the file part required.
        missing: The error's message when that part is missing.
        optional: The names of file parts that may also come.

    Returns:
        ``(fields, files)``: every other field (each sent once, as text), and the bytes of
        each file part sent, by name.

    Raises:
        UploadTooLargeError: If the body is larger than ``cap``.
        BadRequestError: If it cannot be read, lacks the file part, or repeats a field.
    """
    parser = MultiPartParser(
        request.headers,
        capped_body(request, cap),
        max_files=1 + len(optional),
        max_fields=MAX_FORM_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise BadRequestError(f"the multipart body cannot be read: {error.message}") from None
    try:
        if not isinstance(form.get(part), UploadFile):
            raise BadRequestError(missing)
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for key, value in form.multi_items():
            if key in fields or key in files:
                raise BadRequestError(f"form field {key!r} must be sent once")
            if key in (part, *optional):
                if not isinstance(value, UploadFile):
                    raise BadRequestError(f"form field {key!r} must be sent as a file")
                files[key] = await value.read()
            elif isinstance(value, str):
                fields[key] = value
            else:
                raise BadRequestError(f"form field {key!r} must be sent as text")
        return fields, files
    finally:
        await form.close()

"""Akool face detection (ai-tools-suite/face-detection, pages 07 and 09): the landmarks face swap and reage need.

``POST /interface/detect-api/detect_faces`` answers at once, with the result itself: nothing is polled, and the
answer names no job (the ledger keeps an id of its own). Its envelope is its own: ``error_code`` 0 / ``error_msg``
(page 09, "Error Responses"), not Akool's code/msg. Page 09: "Use ``landmarks_str`` directly as the ``opts``
parameter in Face Swap API": the first face's is the ``opts`` column, every face's ``landmarks_str``; with
``return_face_url`` the first cropped face is ``akool_url`` and its ``crop_landmarks`` the ``crop_opts`` column
(page 09's integration example pairs the two).
"""

from __future__ import annotations

from ._spec import Field, JobSpec

__all__ = ["DETECT_FACES", "JOBS"]

_FRAME = "faces_obj.0"  # an image's only frame; a video's first (num_frames frames, keyed "0", "1", ...)

DETECT_FACES = JobSpec(
    name="detect_faces",
    provider="akool",
    create="/interface/detect-api/detect_faces",
    fields=(
        # Page 09, "Request Body": url or img ("If both are provided, url takes priority").
        Field("url", "url"),
        Field("img"),  # base64, with or without a data URI prefix
        Field("num_frames", "int", min=1),  # videos only; default 5
        Field("return_face_url", "bool"),
        Field("single_face", "bool"),  # only the largest face
    ),
    one_of=(("url", "img"),),
    poll=None,
    immediate=True,
    envelope=("error_code", 0, "error_msg"),
    id_path=None,
    create_record="",  # the whole answer is the record
    status_field="error_code",
    statuses={0: "completed"},
    result_field=f"{_FRAME}.face_urls[0]",
    extra_fields={"opts": f"{_FRAME}.landmarks_str[0]", "landmarks_str": f"{_FRAME}.landmarks_str",
                  "region": f"{_FRAME}.region", "crop_opts": f"{_FRAME}.crop_landmarks[0]"},
    credit_field=None,
    webhook_field=None,
    price="detect_faces",
    result_kind="text",
    aliases={"image_url": "url", "video_url": "url"},
    doc="ai-tools-suite/face-detection/detect-faces",
)

JOBS = (DETECT_FACES,)

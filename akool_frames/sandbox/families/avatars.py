"""Akool avatars (v3): the avatar list (official avatars and this account's uploads), uploading one (avatar/create)
and its detail. Talking avatar videos (video.py) are made of them."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .._inputs import fields
from .._routes import Ctx, Raw, make_job, route
from .._state import Job, Media, static_file
from .._validate import ApiError, F, validate
from ._common import UID, price

__all__ = ["official_avatars", "uploads"]

# Akool's official avatars (avatar list from=2): name, avatar_id, gender, picture format, type (1 talking, 2 streaming).
OFFICIAL_AVATARS = [
    ("Yasmin in White shirt", "Yasmin_in_White_shirt_20231121", "female", "png", 1),
    ("Alina in Blue Blazer", "Alina_in_Blue_Blazer_20231121", "female", "png", 1),
    ("Marcus at Desk", "Marcus_at_Desk_20240115", "male", "mp4", 1),
    ("Sofia Presenter", "Sofia_Presenter_20240301", "female", "mp4", 1),
    ("Tristan", "dvp_Tristan_cloth2_1080P", "male", "mp4", 2),
    ("Kenji in Suit", "dvp_Kenji_suit_1080P", "male", "png", 2),
]


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def official_avatars(base_url: str) -> list[dict[str, Any]]:
    avatars = []
    for name, avatar_id, gender, ext, kind in OFFICIAL_AVATARS:
        picture = Media(ext, 10.0 if ext == "mp4" else None)
        avatars.append({
            "_id": _hex(avatar_id), "type": kind, "name": name, "avatar_id": avatar_id,
            "url": static_file(base_url, "avatar-" + _hex(avatar_id)[:8], picture), "gender": gender,
            "thumbnailUrl": static_file(base_url, "avatar-thumb-" + _hex(avatar_id)[:8], Media("png")), "from": 2,
        })
    return avatars


def _avatar_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """An uploaded avatar as avatar/create and avatar/detail show it (status, not video_status)."""
    body = job.body
    return {"_id": job.id, "disabled": False, "uid": UID, "type": int(body.get("type") or 1), "from": 3,
            "status": job.status(ctx.state.clock.now()), "create_time": int(job.created * 1000),
            "name": body.get("name") or body["avatar_id"], "avatar_id": body["avatar_id"], "url": body["url"],
            "thumbnailUrl": body["url"], "crop_arr": []}


def uploads(ctx: Ctx, completed: bool = False) -> list[Job]:
    """This account's avatar uploads not deleted (``completed``: the finished ones only, which the list shows)."""
    now = ctx.state.clock.now()
    return [j for j in ctx.state.jobs.values()
            if j.name == "avatar_upload" and not j.deleted and (not completed or j.status(now) == 3)]


@route("POST", "/api/open/v3/avatar/create", provider="akool", kind="create", name="avatar_upload", inputs=fields("url"))
def create_avatar(ctx: Ctx) -> Raw:
    validate(ctx.body, [F("url", required=True, nonempty=True), F("avatar_id", required=True, nonempty=True),
                        F("name"), F("type", "strnum", enum=(1, 2, "1", "2"))])  # String in the table, 1 in the example
    avatar_id = ctx.body["avatar_id"]
    if not re.fullmatch(r"[A-Za-z0-9]+", avatar_id):
        raise ctx.param_error(f"Parameter error: avatar_id can only contain letters and digits; got {avatar_id!r}")
    now = ctx.state.clock.now()
    taken = {a["avatar_id"] for a in official_avatars(ctx.base_url)}
    taken |= {j.body["avatar_id"] for j in uploads(ctx) if j.status(now) != 4}
    if avatar_id in taken:
        raise ApiError(1222, "Resource already exist")  # global error table; the id must be unique
    seconds = ctx.state.media_seconds(ctx.body["url"])
    # No documented price and no callback field (webhook_field None); the data is an ARRAY, msg "ok".
    job = make_job(ctx, name="avatar_upload", processing=10.0 + 0.5 * seconds, credits=price(ctx, "avatar_upload", 0.0),
                   media=None, webhook_field=None, webhook_type="avatar")
    return Raw(code=1000, msg="ok", data=[_avatar_record(job, ctx)])


@route("GET", "/api/open/v3/avatar/detail", provider="akool", kind="poll", name="avatar_detail")
def avatar_detail(ctx: Ctx) -> Raw:
    avatar_id = ctx.require_query("id")
    for avatar in official_avatars(ctx.base_url):
        if avatar["_id"] == avatar_id:
            return Raw(code=1000, msg="ok", data=[{**avatar, "uid": 1, "status": 3}])
    return Raw(code=1000, msg="ok", data=[_avatar_record(ctx.job(avatar_id, "avatar_upload"), ctx)])


@route("GET", "/api/open/v3/avatar/list", provider="akool", kind="lookup", name="avatar_list")
def avatar_list(ctx: Ctx) -> Raw:
    source, kind = ctx.q("from") or "", ctx.q("type") or ""
    if source not in ("", "2", "3") or kind not in ("", "1", "2"):
        raise ctx.param_error("Parameter error: from must be 2 or 3 and type 1 or 2 (or empty for all)")
    try:  # size: the Value column says 10, the description "Default is 100"; the sandbox follows the description
        page, size = int(ctx.q("page") or 1), int(ctx.q("size") or 100)
    except ValueError as exc:
        raise ctx.param_error("Parameter error: page and size must be numbers") from exc
    if page < 1 or size < 1:
        raise ctx.param_error("Parameter error: page and size must be at least 1")
    avatars = official_avatars(ctx.base_url) + [
        {"type": int(j.body.get("type") or 1), "name": j.body.get("name") or j.body["avatar_id"],
         "avatar_id": j.body["avatar_id"], "url": j.body["url"], "gender": "", "thumbnailUrl": j.body["url"], "from": 3}
        for j in sorted(uploads(ctx, True), key=lambda j: j.created)]
    keep = [a for a in avatars if (not source or a["from"] == int(source)) and (not kind or a["type"] == int(kind))]
    shown = ("name", "avatar_id", "url", "gender", "thumbnailUrl", "from")  # the list example's fields (a bare array)
    return Raw(code=1000, msg="ok", data=[{k: a[k] for k in shown} for a in keep[(page - 1) * size: page * size]])

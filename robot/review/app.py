"""The review web pages (Flask, server-rendered). Reading is GET, every change is a POST with the page token.

Safety: loopback Host headers only when bound to loopback (no DNS rebinding), a per-process token
in every form (no cross-site posts), and images only by id, from the tables being reviewed and
the labels folder: no URL names a file.
"""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from recognizer.imageio import encode_png
from recognizer.labels import MAX_VALUE, MIN_VALUE
from recognizer.labelset import NOT_A_NUMBER, BadLabel
from robot.review.pictures import histogram_bars, overlay_cells
from robot.review.store import class_counts
from robot.review.workspace import Item, UnknownCell, Workspace
from tablebot.errors import TableBotError

RECENT_COUNT = 12  # thumbnails of the latest labels under the current cell
UPCOMING_COUNT = 8  # thumbnails of the next cells in the queue
GALLERY_LIMIT = 300  # thumbnails on one class's gallery page
HISTOGRAM_SIZE = (900, 220)  # SVG drawing area, pixels
TABLE_MIN_DISPLAY_PX = 720  # small screenshots are enlarged to this width in the table view
LOOPBACK_NAMES = {"localhost"}
CSP = (
    "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class PageSettings:
    cell_height_px: int
    labels_folder: Path
    mode: str  # shown in the header: "flagged harvest cells" or "cells of images in DIR"


def host_name(host_header: str) -> str:
    """'127.0.0.1:8765' -> '127.0.0.1', '[::1]:8765' -> '::1', 'localhost' -> 'localhost'."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(workspace: Workspace, settings: PageSettings, bind_host: str = "127.0.0.1") -> Flask:
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # flash messages only; a new one each start is fine
    token = secrets.token_urlsafe(32)
    loopback_only = is_loopback(bind_host)

    @app.before_request
    def _guard() -> None:
        if loopback_only and not is_loopback(host_name(request.host)):
            abort(403, "this page answers only on 127.0.0.1 / localhost")
        if request.method == "POST" and not secrets.compare_digest(request.form.get("token", ""), token):
            abort(403, "the page is out of date (the tool was restarted): reload it and try again")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _common() -> dict:
        return {
            "token": token,
            "progress": workspace.progress(),
            "settings": settings,
            "min_value": MIN_VALUE,
            "max_value": MAX_VALUE,
            "not_a_number": NOT_A_NUMBER,
        }

    # -- the queue ------------------------------------------------------------------------------

    def label_page(item: Item | None, error: str | None = None, typed: str = "", status: int = 200):
        context = {}
        if item is not None:
            context = {"doc": workspace.doc(item.doc_key), "label": workspace.label_of(item.id)}
        html = render_template(
            "label.html",
            page="queue",
            item=item,
            error=error,
            typed=typed,
            recent=workspace.store.recent(RECENT_COUNT),
            upcoming=workspace.upcoming(item, UPCOMING_COUNT),
            can_undo=workspace.can_undo(),
            **context,
        )
        return html, status

    @app.get("/")
    def queue():
        return label_page(workspace.current(request.args.get("item")))

    @app.post("/label")
    def label():
        item_id, text, back = request.form.get("item", ""), request.form.get("label", ""), request.form.get("back", "")
        try:
            item = workspace.item(item_id)
            record = workspace.label(item_id, text)
        except BadLabel as exc:
            if back:
                return table_page(workspace.item(item_id).doc_key, error=str(exc), focus=item_id, status=400)
            return label_page(workspace.item(item_id), error=str(exc), typed=text[:40], status=400)
        shown = "not a number" if record.label == NOT_A_NUMBER else str(record.label)
        flash(f"Saved {shown} for {item.source}", "ok")
        if back:
            return redirect(url_for("table_view", key=item.doc_key)), 303
        return redirect(url_for("queue")), 303

    @app.post("/skip")
    def skip():
        workspace.skip(request.form.get("item", ""))
        return redirect(url_for("queue")), 303

    @app.post("/revisit")
    def revisit():
        workspace.revisit_skipped()
        return redirect(url_for("queue")), 303

    @app.post("/undo")
    def undo():
        item = workspace.undo()
        if item is None:
            flash("Nothing to undo in this session", "error")
            return redirect(url_for("queue")), 303
        flash(f"Undone: {item.source} is back in the queue", "ok")
        return redirect(url_for("queue", item=item.id)), 303

    @app.post("/rescan")
    def rescan():
        workspace.rescan()
        flash("Tables reloaded", "ok")
        return redirect(url_for("tables") if request.form.get("back") == "tables" else url_for("queue")), 303

    @app.get("/cell/<item_id>.png")
    def cell_image(item_id: str):
        return png_response(encode_png(workspace.crop(item_id)))

    @app.get("/cell/<item_id>/context.png")
    def cell_context(item_id: str):
        return png_response(encode_png(workspace.crop(item_id, context=True)))

    # -- tables ---------------------------------------------------------------------------------

    @app.get("/tables")
    def tables():
        rows = []
        for doc in workspace.docs():
            cells = list(doc.table)
            rows.append(
                {
                    "doc": doc,
                    "flagged": sum(c.needs_review for c in cells),
                    "confirmed": sum(c.confirmed for c in cells),
                    "cells": len(cells),
                }
            )
        return render_template("tables.html", page="tables", rows=rows)

    def table_page(key: str, error: str | None = None, focus: str = "", status: int = 200):
        doc = workspace.doc(key)
        width, height = workspace.screenshot_size(key)
        cells = overlay_cells(doc.table, width, height)
        ids = {(c.row, c.col): workspace.item_at(key, c.row, c.col).id for c in cells}
        zoom = max(1.0, TABLE_MIN_DISPLAY_PX / width)
        html = render_template(
            "table.html", page="table", doc=doc, cells=cells, ids=ids, width=round(width * zoom), height=round(height * zoom),
            focus=focus, error=error,
        )
        return html, status

    @app.get("/table/<key>")
    def table_view(key: str):
        return table_page(key, focus=request.args.get("cell", ""))

    @app.get("/table/<key>/screenshot")
    def screenshot(key: str):
        return send_file(workspace.doc(key).image_path)

    # -- the labelled set -----------------------------------------------------------------------

    @app.get("/labels")
    def labels():
        records = workspace.store.records()
        counts = class_counts(records)
        width, height = HISTOGRAM_SIZE
        bars = histogram_bars(counts, width, height)
        chosen = request.args.get("label")
        gallery = []
        if chosen is not None:
            gallery = [r for r in reversed(records) if str(r.label) == chosen][:GALLERY_LIMIT]
        missing = [str(k) for k, v in counts.items() if v == 0 and k != NOT_A_NUMBER]
        return render_template(
            "labels.html", page="labels", bars=bars, total=len(records), width=width, height=height, chosen=chosen, gallery=gallery, missing=missing
        )

    @app.get("/label-image/<record_id>.png")
    def label_image(record_id: str):
        record = workspace.store.get(record_id)
        if record is None:
            abort(404, "no such label")
        folder = settings.labels_folder.resolve()
        path = (folder / record.image).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            abort(404, "that label's image is outside the labels folder or missing")
        return send_file(path, mimetype="image/png")

    @app.get("/favicon.ico")
    def favicon():
        return "", 204  # none; keeps the browser from logging a 404 on every page

    # -- errors ---------------------------------------------------------------------------------

    @app.errorhandler(UnknownCell)
    def _unknown(exc: UnknownCell):
        return render_template("error.html", page="error", message=str(exc)), 404

    @app.errorhandler(TableBotError)
    def _ours(exc: TableBotError):
        return render_template("error.html", page="error", message=f"{exc} (labels saved before this one are safe)"), 500

    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    def _http(exc):
        return render_template("error.html", page="error", message=exc.description), exc.code

    return app


def png_response(data: bytes) -> Response:
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


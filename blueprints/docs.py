"""Developer documentation (placeholder while the pages are written)."""

from flask import Blueprint

bp = Blueprint("docs", __name__, url_prefix="/docs")

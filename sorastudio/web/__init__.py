"""The web app (`sorastudio serve`): FastAPI JSON API + server-rendered pages over `AsyncStudio`."""

from sorastudio.web.app import create_app
from sorastudio.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]

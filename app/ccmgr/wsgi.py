"""``gunicorn ccmgr.wsgi:app`` for people who run gunicorn themselves (reads CCMGR_BASEDIR)."""

from ccmgr.app import get_app

app = get_app()

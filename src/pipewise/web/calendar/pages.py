"""placeholder"""
from pipewise.web.common import web_router

router = web_router()

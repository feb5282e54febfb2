"""placeholder"""
from pipewise.api.deps import api_router

router = api_router(tags=["tasks"])

"""The account routes: FastAPI Users' routers mounted at the paths the tutorial uses."""

from fastapi import APIRouter

from backend.apps.user.auth import Auth
from backend.apps.user.models import UserCreate, UserRead, UserUpdate


def get_users_router(auth: Auth) -> APIRouter:
    users = auth.fastapi_users
    router = APIRouter()
    router.include_router(users.get_auth_router(auth.backend), prefix="/auth/jwt", tags=["auth"])
    router.include_router(users.get_register_router(UserRead, UserCreate), prefix="/auth", tags=["auth"])
    router.include_router(users.get_reset_password_router(), prefix="/auth", tags=["auth"])
    router.include_router(users.get_verify_router(UserRead), prefix="/auth", tags=["auth"])
    router.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"])
    return router

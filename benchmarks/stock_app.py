"""The baseline: FastAPI Users as its documentation sets it up, plus a per-user task list.

Beanie + JWT + Bearer, straight from FastAPI Users' "Full example" for Beanie: `BeanieBaseUser`
with `BeanieUserDatabase`, the default `PasswordHelper` (argon2id with pwdlib's defaults, the
same parameters as this app), `BearerTransport` + `JWTStrategy` in an `AuthenticationBackend`,
and FastAPI Users' own auth, register and users routers. The one change the docs need today:
Beanie 2 runs on `pymongo.AsyncMongoClient`, not Motor.

`make bench` runs it with one uvicorn worker on the benchmark's SecantusDB:

    STOCK_MONGODB_URL=mongodb://127.0.0.1:27017 STOCK_MONGODB_DB=stock \\
        .venv/bin/uvicorn benchmarks.stock_app:app --port 8001
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from beanie import Document, PydanticObjectId, init_beanie
from fastapi import Depends, FastAPI, Query
from fastapi_users import BaseUserManager, FastAPIUsers, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import BeanieBaseUser, BeanieUserDatabase, ObjectIDIDMixin
from pydantic import BaseModel, Field
from pymongo import ASCENDING, AsyncMongoClient, IndexModel

DATABASE_URL = os.environ.get("STOCK_MONGODB_URL", "mongodb://localhost:27017")
DATABASE_NAME = os.environ.get("STOCK_MONGODB_DB", "stock_fastapi_users")
SECRET = os.environ.get("STOCK_SECRET", "a-benchmark-secret-that-signs-nothing-real")

client: AsyncMongoClient = AsyncMongoClient(DATABASE_URL, uuidRepresentation="standard")


# --- db.py -------------------------------------------------------------------------------------
class User(BeanieBaseUser, Document):
    pass


async def get_user_db() -> AsyncIterator[BeanieUserDatabase]:
    yield BeanieUserDatabase(User)


# --- schemas.py --------------------------------------------------------------------------------
class UserRead(schemas.BaseUser[PydanticObjectId]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


# --- users.py ----------------------------------------------------------------------------------
class UserManager(ObjectIDIDMixin, BaseUserManager[User, PydanticObjectId]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(
    user_db: BeanieUserDatabase = Depends(get_user_db),  # noqa: B008 - as the docs write it
) -> AsyncIterator[UserManager]:
    yield UserManager(user_db)


bearer_transport = BearerTransport(tokenUrl="auth/jwt/login")


def get_jwt_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


auth_backend = AuthenticationBackend(name="jwt", transport=bearer_transport, get_strategy=get_jwt_strategy)
fastapi_users = FastAPIUsers[User, PydanticObjectId](get_user_manager, [auth_backend])
current_active_user = fastapi_users.current_user(active=True)


# --- tasks: what a newcomer adds next ------------------------------------------------------------
def now() -> datetime:
    return datetime.now(UTC)


class Task(Document):
    owner_id: PydanticObjectId
    name: str
    completed: bool = False
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    class Settings:
        name = "tasks"
        indexes = [IndexModel([("owner_id", ASCENDING), ("created_at", ASCENDING)])]


class TaskCreate(BaseModel):
    name: str
    completed: bool = False


# --- app.py ------------------------------------------------------------------------------------
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await init_beanie(database=client[DATABASE_NAME], document_models=[User, Task])
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth", tags=["auth"])
app.include_router(fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"])

CurrentUser = Annotated[User, Depends(current_active_user)]


@app.get("/task/", response_model=list[Task], tags=["tasks"])
async def list_tasks(
    user: CurrentUser, skip: int = 0, limit: Annotated[int, Query(le=100)] = 20
) -> list[Task]:
    return await Task.find(Task.owner_id == user.id).sort(+Task.created_at).skip(skip).limit(limit).to_list()


@app.post("/task/", response_model=Task, status_code=201, tags=["tasks"])
async def create_task(body: TaskCreate, user: CurrentUser) -> Task:
    return await Task(owner_id=user.id, **body.model_dump()).insert()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}

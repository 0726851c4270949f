"""Schema pieces shared by the apps."""

from pydantic import BaseModel, ConfigDict, field_validator


class PartialUpdate(BaseModel):
    """A partial update: fields left out stay as they are; unknown fields and nulls are refused.

    FastAPI Users' own update schema lets `{"email": null}` through to the database.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value

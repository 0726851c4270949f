"""The client's replica-set semantics come from the code, whatever the connection string says.
(Every test on the wire backend runs the app with this client, so SecantusDB takes them too.)"""

import pytest
from pymongo import ReadPreference

from backend.config import Settings
from backend.db import create_client
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET


def settings_for(url: str) -> Settings:
    return Settings(
        mongodb_url=url, environment="development", realm_app_id=TEST_APP_ID, jwt_secret_key=TEST_SECRET
    )


@pytest.mark.parametrize(
    "url",
    [
        "mongodb://db.example:27017/farm",
        # What someone might copy from a tutorial: fast, and unsafe for tokens and revocations.
        "mongodb://db.example:27017/farm?w=1&readPreference=secondaryPreferred&readConcernLevel=local",
        "mongodb://a.example,b.example/farm?replicaSet=rs0&w=0&journal=false",
    ],
)
async def test_writes_wait_for_a_majority_and_reads_go_to_the_primary(url: str) -> None:
    client = create_client(settings_for(url))
    try:
        assert client.write_concern.document["w"] == "majority"
        assert client.read_preference == ReadPreference.PRIMARY
        assert client.options.retry_writes and client.options.retry_reads
    finally:
        await client.close()

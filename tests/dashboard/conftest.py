import pytest

from dashboard.app import create_app


@pytest.fixture(scope="session")
def client():
    return create_app().server.test_client()

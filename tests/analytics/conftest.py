import pytest

from tests.analytics.shop import Shop, build_shop


@pytest.fixture
def shop(network) -> Shop:
    return build_shop(network)

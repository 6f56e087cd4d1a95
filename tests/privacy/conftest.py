from tests.backoffice.conftest import login  # noqa: F401  (the back office's sign-in fixture)

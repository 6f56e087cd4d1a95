"""The channel-facing REST API (/api/v1/): thin views over the apps' services and selectors."""

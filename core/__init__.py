"""What every app builds on and nothing here depends on: the error hierarchy."""

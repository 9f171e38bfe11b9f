"""Model backends of the ML checkers, each loaded lazily and at most once per process."""

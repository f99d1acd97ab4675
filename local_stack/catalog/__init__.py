"""A local, stateful catalog that answers the subset of Port's REST API used by Ocean."""

from local_stack.catalog.app import create_app

__all__ = ["create_app"]

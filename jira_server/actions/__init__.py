"""Self-service actions: create an issue (also from any catalog entity), comment on one,
transition one, assign one.

Runs are claimed from Port by the framework's execution manager (actions processing on,
``OCEAN__ACTIONS_PROCESSOR__ENABLED=true``); each executor validates its inputs, makes the
change in Jira, upserts the touched issue into the catalog and reports the run's summary.
"""

from jira_server.actions.registry import executors, register_actions

__all__ = ["executors", "register_actions"]

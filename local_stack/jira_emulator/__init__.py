"""A Jira Server / Data Center REST v2 emulator (ASGI) for tests, the demo and benchmarks.

In-process::

    app = create_app(EmulatorConfig(dataset=DatasetSpec(issues=500)))
    async with emulator_client(app) as client: ...
    app.state.set_faults({"error_rate": 0.1}); app.state.truth("project = PLAT")

As a process: ``python -m local_stack.jira_emulator --port-file F`` (see ``__main__``).
"""

from local_stack.jira_emulator.app import ConnectionDropped, EmulatorApp, create_app
from local_stack.jira_emulator.config import Account, EmulatorConfig
from local_stack.jira_emulator.data import DatasetSpec
from local_stack.jira_emulator.faults import FaultConfig, PagingMutation, RateLimit

__all__ = [
    "Account",
    "ConnectionDropped",
    "DatasetSpec",
    "EmulatorApp",
    "EmulatorConfig",
    "FaultConfig",
    "PagingMutation",
    "RateLimit",
    "create_app",
]

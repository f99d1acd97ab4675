"""``blueprintPrefix`` with a real ``ocean sail``: a catalog that already holds Port's own
jira-server blueprints keeps them untouched, and the integration installs and fills its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from jira_server import blueprints
from local_stack.stack import jira_args, local_stack
from tests.reliability.support import _port, run, tail

pytestmark = pytest.mark.e2e

# Port's jira-server integration's issue blueprint, as a catalog that runs it holds it.
PORT_ISSUE_BLUEPRINT = {
    "identifier": "jiraServerIssue",
    "title": "Jira Issue (Port's integration)",
    "schema": {"properties": {"status": {"type": "string"}}, "required": []},
    "relations": {},
}


def test_a_custom_prefix_installs_its_own_blueprints_next_to_ports(tmp_path: Path) -> None:
    with local_stack(tmp_path, jira=jira_args(projects=2, users=10, issues=40)) as stack:
        with _port(stack) as port:
            port.post("/v1/blueprints", json=PORT_ISSUE_BLUEPRINT).raise_for_status()
        result = run(stack, "prefix.log", blueprintPrefix="acmeJira")
        assert result.returncode == 0, tail(result)
        installed = stack.catalog_client.blueprints()
        ours = {blueprints.blueprint(kind, "acmeJira") for kind in blueprints.BY_KIND}
        assert ours <= set(installed)
        assert not {b for b in installed if b.startswith(blueprints.DEFAULT_PREFIX)}
        # Port's blueprint is as it was: no property added, no relation, no entity.
        assert installed["jiraServerIssue"]["title"] == PORT_ISSUE_BLUEPRINT["title"]
        assert installed["jiraServerIssue"]["relations"] == {}
        assert stack.catalog_client.entities("jiraServerIssue") == []
        relations = installed["acmeJiraIssue"]["relations"]
        assert relations["project"]["target"] == "acmeJiraProject"
        truth = stack.jira_control.truth()
        assert stack.catalog_client.identifiers("acmeJiraProject") == set(truth["projects"])
        # Mapped issues (not the placeholders the catalog creates for relation targets).
        issues = [e for e in stack.catalog_client.entities("acmeJiraIssue") if e["title"]]
        assert issues and all(e["relations"]["project"] in truth["projects"] for e in issues)

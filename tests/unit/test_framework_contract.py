"""The contract with port-ocean's internals: every private or internal name the integration
relies on, through jira_server/framework.py or directly on the Port client. An upgrade that
renames or changes one of them fails here, naming it, instead of changing what a sync does."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from pathlib import Path

import pytest
from port_ocean.clients.port.client import PortClient
from port_ocean.core.handlers.entity_processor.jq_entity_processor_sync import (
    JQEntityProcessorSync,
)
from port_ocean.core.integrations.mixins.sync_raw import SyncRawMixin
from port_ocean.core.models import ProcessingMode
from port_ocean.log import logger_setup

from jira_server import framework


def test_the_pinned_version_is_the_installed_one() -> None:
    assert version("port-ocean") == framework.PINNED_VERSION, (
        "port-ocean was upgraded: review jira_server/framework.py against the new version, "
        "then update PINNED_VERSION"
    )


def test_the_jq_filter_rewrite_exists_and_converts_single_quotes() -> None:
    assert hasattr(JQEntityProcessorSync, "_format_filter"), "JQEntityProcessorSync._format_filter"
    assert framework.format_jq_filter("'jiraServerSyncIssue'") == '"jiraServerSyncIssue"'


def test_the_per_item_mapping_is_callable_as_used() -> None:
    method = JQEntityProcessorSync._get_mapped_entity
    params = list(inspect.signature(method).parameters)
    assert params[:4] == ["data", "raw_entity_mappings", "selector_query", "parse_all"], (
        f"JQEntityProcessorSync._get_mapped_entity changed: {params}"
    )
    assert isinstance(
        inspect.getattr_static(JQEntityProcessorSync, "_get_mapped_entity"), staticmethod
    ), "JQEntityProcessorSync._get_mapped_entity is no longer a staticmethod"


def test_the_raw_results_of_a_resource_keep_their_signature() -> None:
    params = list(inspect.signature(SyncRawMixin._get_resource_raw_results).parameters)
    assert params == ["self", "resource_config", "send_raw_data_examples_amount"], (
        f"SyncRawMixin._get_resource_raw_results changed: {params}"
    )


def test_the_log_patcher_can_be_wrapped() -> None:
    assert callable(logger_setup._combined_patcher), "port_ocean.log.logger_setup._combined_patcher"


def test_the_processing_mode_names() -> None:
    assert ProcessingMode.ocean_core == framework.SUPPORTED_PROCESSING_MODE
    assert {m.value for m in ProcessingMode} == {"ocean-core", "dsp"}


@pytest.mark.parametrize(
    "name",
    [
        "upsert_entities_bulk",
        "bulk_delete_entities",
        "get_blueprint",
        "get_integration_cursor",
        "upsert_integration_cursor",
        "ingest_integration_kind_examples",
    ],
)
def test_the_port_client_methods_the_sync_calls(name: str) -> None:
    assert callable(getattr(PortClient, name, None)), f"PortClient.{name}"


def test_the_port_client_attributes_the_catalog_api_uses() -> None:
    source = inspect.getsource(PortClient.__init__)
    for attribute in ("self.client", "self.auth"):
        assert attribute in source, f"PortClient.__init__ no longer sets {attribute}"
    from port_ocean.clients.port.authentication import PortAuthentication

    auth_source = inspect.getsource(PortAuthentication.__init__)
    for attribute in ("api_url", "integration_identifier", "integration_type"):
        assert f"self.{attribute}" in auth_source, f"PortAuthentication.{attribute}"


def test_the_webhook_route_is_where_the_framework_mounts_it() -> None:
    from port_ocean import ocean as ocean_module

    source = inspect.getsource(ocean_module)
    assert 'prefix=f"{self.route_prefix}/integration"' in source, (
        "port-ocean no longer mounts the integration router under {route_prefix}/integration"
    )
    assert framework.webhook_route_path("/p", "/webhook") == "/p/integration/webhook"


def test_the_default_resources_are_read_from_the_configured_directory(tmp_path: Path) -> None:
    """``use_resources_dir`` sets ``resources_path``, which the framework's installation of
    the defaults reads (``DefaultOriginSetup``); an absolute path is used as it is."""
    from port_ocean.config.settings import IntegrationConfiguration
    from port_ocean.core.defaults.common import get_port_integration_defaults
    from port_ocean.core.defaults.initialization import default_origin_setup

    from jira_server import blueprints
    from jira_server.resources import JiraServerPortAppConfig

    assert "resources_path" in IntegrationConfiguration.model_fields, "resources_path"
    # The integration (whose __init__ renders the resources) is built before the defaults
    # are installed: ``ocean sail`` loads the app, then calls initialize_defaults.
    ocean_run = importlib.import_module("port_ocean.run")  # the package exports run() itself
    sail = inspect.getsource(ocean_run.run)
    assert -1 < sail.index("load_ocean_app(") < sail.index("initialize_defaults("), "port_ocean.run"
    setup_source = inspect.getsource(default_origin_setup.DefaultOriginSetup.__init__)
    assert "integration_config.resources_path" in setup_source, "DefaultOriginSetup"
    source = Path(__file__).resolve().parents[2] / ".port" / "resources"
    rendered = blueprints.render_resources(source, "acme", "", "x", tmp_path / "rendered")
    assert rendered is not None

    class Config:
        resources_path = ".port/resources"

    config = Config()
    framework.use_resources_dir(config, rendered)
    assert framework.resources_dir(config) == rendered.resolve()
    defaults = get_port_integration_defaults(JiraServerPortAppConfig, config.resources_path)
    assert defaults is not None
    assert {b["identifier"] for b in defaults.blueprints} == {
        blueprints.blueprint(kind, "acme") for kind in blueprints.BY_KIND
    }
    assert {r.port.entity.mappings.blueprint for r in defaults.port_app_config.resources} == {
        f'"{blueprints.blueprint(r.kind, "acme")}"' for r in defaults.port_app_config.resources
    }

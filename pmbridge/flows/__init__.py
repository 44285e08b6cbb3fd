"""Flows: the declarative pairing of Custompms kinds with Trello kinds, property by property."""

from pmbridge.flows.loader import default_flows_path, load_flows, parse_flows
from pmbridge.flows.models import Flow, FlowFile, Property

__all__ = ["Flow", "FlowFile", "Property", "default_flows_path", "load_flows", "parse_flows"]

"""The Custompms connector: an async client for the contract and its ``System`` adapter.

client = CustompmsClient("http://127.0.0.1:8765", token)
system = CustompmsSystem(client)
feed = await system.read("task", cursor=None)
"""

from pmbridge.errors import GoneError
from pmbridge.systems.custompms.client import CustompmsClient, FeedPage
from pmbridge.systems.custompms.system import CustompmsSystem
from pmbridge.systems.http import RetryPolicy

__all__ = ["CustompmsClient", "CustompmsSystem", "FeedPage", "GoneError", "RetryPolicy"]

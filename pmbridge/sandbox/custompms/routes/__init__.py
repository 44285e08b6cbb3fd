"""The routers of the reference Custompms: one per resource, subscriptions, the HTML page."""

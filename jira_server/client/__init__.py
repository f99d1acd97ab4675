"""The Jira Server / Data Center REST v2 client: HTTP layers (transport, auth), paging and
Jira's quirks (``rest_client``), JQL text (``jql``), and one client per event loop
(``provider``)."""

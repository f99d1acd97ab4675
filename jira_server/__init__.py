"""Support code for talking to Jira Server / Data Center: settings, auth, transport, errors."""

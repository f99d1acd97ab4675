"""The embedded local stack: a Jira Server emulator and a Port-compatible local catalog."""

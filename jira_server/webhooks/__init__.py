"""Live events: Jira webhooks turned into catalog updates.

* :mod:`.middleware` authenticates every delivery (signature or URL token) before the
  framework sees it, caps its size and keeps the token out of every log;
* :mod:`.processors` refetch the named object from Jira and upsert or remove its entity;
* :mod:`.registration` keeps exactly one webhook registered in Jira, pointing at us.
"""

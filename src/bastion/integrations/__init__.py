"""Send findings where people work: issues in GitHub, GitLab and Jira, kept in step both ways,
and notifications (e-mail, Slack, Teams, signed webhooks) for new criticals, SLA breaches and
known-exploited vulnerabilities.

Configuration is a data file (:mod:`bastion.integrations.config`); credentials are named by the
environment variable holding them and are never stored, logged or echoed in an error.
"""

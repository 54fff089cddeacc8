"""The Slack adapter: Bolt listeners, Block Kit rendering, the Slack directory and the web app."""

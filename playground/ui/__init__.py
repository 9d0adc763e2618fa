"""The Textual front end: it renders the core's results and sends the user's intent down."""

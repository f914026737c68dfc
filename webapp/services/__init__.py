"""Use cases. Each public function validates, changes the database, commits, then publishes a
domain event. Views stay thin: they parse input, call one service, and render."""


class ServiceError(Exception):
    """A refusal the user should read (translated message) with the HTTP status to answer."""

    def __init__(self, message, status=409, field=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field

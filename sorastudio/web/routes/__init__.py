"""One module per resource: JSON API under `/api`, media by id, the event stream, and the pages."""

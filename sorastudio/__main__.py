"""`python -m sorastudio` = the `sorastudio` command."""

from sorastudio.cli import app

if __name__ == "__main__":
    app()

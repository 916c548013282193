"""``python -m campaignflow``: the same as the ``campaignflow`` command."""

from campaignflow.cli import main

if __name__ == "__main__":
    main()

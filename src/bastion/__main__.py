"""``python -m bastion`` runs the command line."""

from bastion.cli.main import run

if __name__ == "__main__":
    run()

"""`pipewise quotes`: placeholder"""
import typer
app = typer.Typer(help="Quotes", no_args_is_help=True)

"""``trtdoc completion bash|zsh|fish``: the shell completion script, as click generates it."""

from __future__ import annotations

import click

# click's own mechanism: the script calls `trtdoc` back with this variable set.
COMPLETE_VAR = "_TRTDOC_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash:  echo 'eval "$(trtdoc completion bash)"' >> ~/.bashrc
    zsh:   echo 'eval "$(trtdoc completion zsh)"' >> ~/.zshrc
    fish:  trtdoc completion fish > ~/.config/fish/completions/trtdoc.fish
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root()
    cls = get_completion_class(shell)
    assert cls is not None, "click ships bash, zsh and fish"
    script = cls(root.command, {}, root.info_name or "trtdoc", COMPLETE_VAR).source()
    click.echo(script, nl=False)  # as click prints it: the script ends its last line

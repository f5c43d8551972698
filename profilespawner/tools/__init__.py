"""The tool side of profilespawner: what the ``profilespawner`` command does with the hub's rules.

Linting documents with every problem and its line (:mod:`.lint`), explaining
a spawn from the merge's record (:mod:`.explain`), previewing the pod a user
would get with an offline spawner (:mod:`.preview`, :mod:`.offline`), reading
the cluster's profile ConfigMaps once (:mod:`.cluster`), trying the pod of
every spawn the profiles target as a server-side dry run (:mod:`.dryrun`,
:mod:`.targets`), the hub's settings as a tool reads them, through the traits
(:mod:`.settings`), how the command prints (:mod:`.output`), and the
garbage collector of the command's own process (:mod:`.process`). These
modules call the hub's own functions; none re-implements a rule. Nothing on
the hub's path imports this package (``.importlinter``).
"""

__all__: list[str] = []

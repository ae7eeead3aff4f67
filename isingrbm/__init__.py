"""isingrbm: the application layer of the Ising-physics workbench.

The ``isingrbm`` command line (one module per subcommand under
:mod:`isingrbm.commands`), evaluation tables, figures, the report and the
end-to-end demo. The physics lives in the packages ``mccore``, ``mcstats``,
``ising``, ``rbm``, ``vmc`` and ``gan``; nothing imports this package.
"""

from mccore.version import software_version

__version__ = software_version()

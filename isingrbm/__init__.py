"""isingrbm: the application layer of the Ising-physics workbench.

The ``isingrbm`` command line (one module per subcommand under
:mod:`isingrbm.commands`), evaluation tables, figures, the report and the
end-to-end demo. The physics lives in the packages ``mcstats``, ``ising``,
``rbm``, ``vmc`` and ``gan``; nothing imports this package.
"""

__version__ = "0.1.0"

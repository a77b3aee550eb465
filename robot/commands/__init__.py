"""The `robot` commands, one a module, each thin: parse options, call the plain functions that do
the work, print. `robot.cli` imports a command's module only when it is invoked.

The click context's `obj`, when given (`robot.cli.main(obj=RunParts(...))`), is the `RunParts`
that runs use; tests pass fakes there.
"""

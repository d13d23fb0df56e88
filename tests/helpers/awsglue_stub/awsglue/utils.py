"""getResolvedOptions: Glue's parser of ``--key value`` job arguments (stand-in)."""


def getResolvedOptions(argv, options):
    found = {}
    for name in options:
        flag = f"--{name}"
        if flag in argv:
            found[name.replace("-", "_")] = argv[argv.index(flag) + 1]
    return found

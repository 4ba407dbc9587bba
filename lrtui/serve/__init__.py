"""The app served to browsers (textual-serve): the only package that imports textual_serve
and aiohttp. ``server`` the pages and websockets, ``door`` who may come in, ``learner`` one
learner's app process, ``forkserver`` and ``fork_child`` the process that forks the apps."""
